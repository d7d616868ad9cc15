import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { ConsumerConfig, ConfigModule } from '@ulo/config';
import { LogoutStepRunner, MessagingModule } from '@ulo/messaging';
import { PersistenceModule } from '@ulo/persistence';
import { LogoutRequestedHandler } from './handlers/logout-requested.handler';
import { RevokeRefreshTokens } from './revoke-refresh-tokens/revoke-refresh-tokens.usecase';

@Module({})
export class RefreshTokenRevokerModule {
  static forRoot(config: ConsumerConfig): DynamicModule {
    return {
      module: RefreshTokenRevokerModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({ pinoHttp: { level: config.logLevel } }),
        PersistenceModule.forRoot(),
        MessagingModule.forRoot('refresh-token-revoker'),
      ],
      controllers: [LogoutRequestedHandler],
      providers: [RevokeRefreshTokens, LogoutStepRunner],
    };
  }
}
