import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@ulo/config';
import { dataSourceOptions } from './data-source';
import { DatabaseConnection } from './database-connection';
import { BackchannelDeliveryRepository } from './repositories/backchannel-delivery.repository';
import { LogEventRepository } from './repositories/log-event.repository';
import { LogPartitionsRepository } from './repositories/log-partitions.repository';
import { LogStreamRepository } from './repositories/log-stream.repository';
import { LogoutRequestRepository } from './repositories/logout-request.repository';
import { OutboxRepository } from './repositories/outbox.repository';
import { RefreshTokenRepository } from './repositories/refresh-token.repository';
import { SessionRepository } from './repositories/session.repository';
import { SigningKeyRepository } from './repositories/signing-key.repository';

/** The repositories of tables more than one app uses; an app's own tables have repositories in the app. */
const repositories = [
  OutboxRepository,
  LogEventRepository,
  LogPartitionsRepository,
  LogoutRequestRepository,
  SessionRepository,
  RefreshTokenRepository,
  SigningKeyRepository,
  LogStreamRepository,
  BackchannelDeliveryRepository,
];

@Global()
@Module({})
export class PersistenceModule {
  static forRoot(): DynamicModule {
    return {
      module: PersistenceModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [APP_CONFIG],
          // DatabaseConnection connects it: an unreachable database must not stop the app (SPEC §8).
          useFactory: (c: AppConfig) => ({ ...dataSourceOptions(c.database.url, c.database.poolSize), manualInitialization: true }),
        }),
      ],
      providers: [DatabaseConnection, ...repositories],
      exports: [TypeOrmModule, DatabaseConnection, ...repositories],
    };
  }
}
