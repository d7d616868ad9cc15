import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig, ConfigModule } from '@ulo/config';
import { MessagingModule } from '@ulo/messaging';
import { PersistenceModule } from '@ulo/persistence';

@Module({})
export class LogStreamerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: LogStreamerModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({ pinoHttp: { level: config.logLevel } }),
        PersistenceModule.forRoot(),
        MessagingModule.forRoot('log-streamer'),
      ],
    };
  }
}
