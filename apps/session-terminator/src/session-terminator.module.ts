import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { ConsumerConfig, ConfigModule } from '@ulo/config';
import { LogoutStepRunner, MessagingModule } from '@ulo/messaging';
import { PersistenceModule } from '@ulo/persistence';
import { LogoutRequestedHandler } from './handlers/logout-requested.handler';
import { TerminateSessions } from './terminate-sessions/terminate-sessions.usecase';

@Module({})
export class SessionTerminatorModule {
  static forRoot(config: ConsumerConfig): DynamicModule {
    return {
      module: SessionTerminatorModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({ pinoHttp: { level: config.logLevel } }),
        PersistenceModule.forRoot(),
        MessagingModule.forRoot('session-terminator'),
      ],
      controllers: [LogoutRequestedHandler],
      providers: [TerminateSessions, LogoutStepRunner],
    };
  }
}
