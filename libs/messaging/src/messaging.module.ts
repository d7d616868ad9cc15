import { BeforeApplicationShutdown, DynamicModule, Global, Injectable, Module, OnApplicationBootstrap } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@ulo/config';
import { LogEventRepository, OutboxRepository } from '@ulo/persistence';
import { createKafka } from './kafka.factory';
import { OutboxBacklog } from './outbox-backlog';
import { OutboxRelay } from './outbox-relay';
import { OutboxWriter } from './outbox.writer';
import { LogEventRecorder } from './log-event.recorder';

export const KAFKA = Symbol('KAFKA');

/**
 * Kafka plumbing for one app: the client, the topics, the outbox writer and its relay (and the
 * relay's backlog, `ulo_outbox_backlog`).
 * Every app publishes through the outbox, so an event exists only if its transaction committed.
 */
@Global()
@Module({})
export class MessagingModule {
  static forRoot(clientId: string): DynamicModule {
    return {
      module: MessagingModule,
      providers: [
        { provide: KAFKA, inject: [APP_CONFIG], useFactory: (c: AppConfig) => createKafka(c, clientId) },
        {
          provide: OutboxWriter,
          inject: [APP_CONFIG, OutboxRepository],
          useFactory: (c: AppConfig, outbox: OutboxRepository) => new OutboxWriter(c.kafka.topicPrefix, outbox),
        },
        {
          provide: OutboxRelay,
          inject: [DataSource, OutboxRepository, KAFKA, APP_CONFIG],
          useFactory: (ds: DataSource, outbox: OutboxRepository, kafka: Kafka, c: AppConfig) =>
            new OutboxRelay(ds, outbox, kafka, { pollIntervalMs: c.outbox.pollIntervalMs, topicPrefix: c.kafka.topicPrefix }),
        },
        {
          provide: LogEventRecorder,
          inject: [DataSource, OutboxWriter, LogEventRepository],
          useFactory: (ds: DataSource, w: OutboxWriter, logEvents: LogEventRepository) => new LogEventRecorder(ds, w, logEvents),
        },
        RelayLifecycle,
        OutboxBacklog,
      ],
      exports: [KAFKA, OutboxWriter, OutboxRelay, LogEventRecorder],
    };
  }
}

@Injectable()
class RelayLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(private readonly relay: OutboxRelay) {}

  /** Not awaited work: the relay connects (and creates the topics) whenever Kafka answers. */
  onApplicationBootstrap(): void {
    this.relay.start();
  }

  /**
   * Before any module's shutdown hook: the database the relay reads is closed in one of those.
   * A row committed after this stays in the outbox for the next relay to publish.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }
}
