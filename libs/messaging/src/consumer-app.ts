import { DynamicModule, INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppConfig } from '@ulo/config';
import { createKafka } from './kafka.factory';
import { KafkaEventServer } from './kafka-event.server';

/**
 * Starts a consumer app: its own consumer group (`<prefix><name>`), so that every app receives every
 * event and each app scales by running more instances of itself.
 */
export async function startConsumerApp(
  name: string,
  rootModule: DynamicModule,
  config: AppConfig,
): Promise<INestMicroservice> {
  const app = await NestFactory.createMicroservice(rootModule, {
    strategy: new KafkaEventServer({
      kafka: createKafka(config, name),
      topicPrefix: config.kafka.topicPrefix,
      groupId: `${config.kafka.topicPrefix}${name}`,
      commitIntervalMs: config.kafka.commitIntervalMs,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      partitionsConsumedConcurrently: config.kafka.partitionsConcurrently,
    }),
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await app.listen();
  return app;
}
