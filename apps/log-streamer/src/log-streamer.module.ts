import { DynamicModule, Module } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { LoggerModule } from 'nestjs-pino';
import { APP_CONFIG, LogStreamerConfig, ConfigModule } from '@ulo/config';
import { KAFKA, MessagingModule } from '@ulo/messaging';
import { PersistenceModule } from '@ulo/persistence';
import { SafeHttpClient, SealedSecrets } from '@ulo/security';
import { DeliverLogStreamBatch } from './deliver-log-streams/deliver-log-stream-batch.usecase';
import { LogStreamDeliveryRepository } from './deliver-log-streams/log-stream-delivery.repository';
import { LogStreamScheduler } from './deliver-log-streams/log-stream-scheduler.service';
import { LogEventHandler } from './handlers/log-event.handler';
import { LogStreamerMetrics } from './metrics/log-streamer.metrics';
import { MetricsServer } from './metrics/metrics.server';
import { HttpLogSink } from './sinks/http-log.sink';
import { KafkaLogSink } from './sinks/kafka-log.sink';
import { LogSinks } from './sinks/log-sinks';
import { FanoutSweeper } from './store-log-events/fanout.sweeper';
import { LogStreamFanoutRepository } from './store-log-events/log-stream-fanout.repository';
import { StoreLogEvents } from './store-log-events/store-log-events.usecase';

@Module({})
export class LogStreamerModule {
  static forRoot(config: LogStreamerConfig): DynamicModule {
    return {
      module: LogStreamerModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({ pinoHttp: { level: config.logLevel } }),
        PersistenceModule.forRoot(),
        MessagingModule.forRoot('log-streamer'),
      ],
      controllers: [LogEventHandler],
      providers: [
        LogStreamFanoutRepository,
        StoreLogEvents,
        FanoutSweeper,
        LogStreamDeliveryRepository,
        DeliverLogStreamBatch,
        LogStreamScheduler,
        {
          provide: LogStreamerMetrics,
          inject: [LogStreamDeliveryRepository],
          useFactory: (streams: LogStreamDeliveryRepository) => new LogStreamerMetrics(() => streams.lag()),
        },
        MetricsServer,
        {
          provide: SafeHttpClient,
          inject: [APP_CONFIG],
          useFactory: (c: LogStreamerConfig) => new SafeHttpClient(c.security.allowPrivateNetworkUrls, c.security.outboundTimeoutMs),
        },
        {
          provide: LogSinks,
          inject: [SafeHttpClient, KAFKA, APP_CONFIG],
          useFactory: (http: SafeHttpClient, kafka: Kafka, c: LogStreamerConfig) =>
            new LogSinks(
              new HttpLogSink(http, new SealedSecrets(c.security.signingKeyEncryptionSecret), c.logStreams.batchSize),
              new KafkaLogSink(kafka, c.logStreams.kafkaCreateTopics),
              http,
            ),
        },
      ],
    };
  }
}
