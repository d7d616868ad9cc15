import { DynamicModule, INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import type { Registry } from 'prom-client';
import type { ConsumerConfig } from '@ulo/config';
import { DatabaseConnection } from '@ulo/persistence';
import { HandlerErrorFilter } from './handler-error.filter';
import { HealthServer } from './health.server';
import { createKafka } from './kafka.factory';
import { KafkaEventServer } from './kafka-event.server';
import { collectProcessMetrics } from './process-metrics';

/** Each consumer app's own health port when HEALTH_PORT is unset (README "Ports"). */
export const DEFAULT_HEALTH_PORTS: ReadonlyMap<string, number> = new Map([
  ['session-terminator', 3101],
  ['refresh-token-revoker', 3102],
  ['backchannel-dispatcher', 3103],
  ['log-streamer', 3104],
]);

export interface ConsumerApp {
  app: INestMicroservice;
  server: KafkaEventServer;
  health: HealthServer;
}

export interface ConsumerAppOptions {
  /** Registries of the app's own served on `/metrics` besides the process registry (the log-streamer's). */
  metricsOf?: (app: INestMicroservice) => Registry[];
}

/**
 * Starts a consumer app: its own consumer group (`<prefix><name>`), so that every app receives every
 * event and each app scales by running more instances of itself. It starts whether or not Kafka
 * and PostgreSQL answer (SPEC §8), and serves liveness, readiness and its Prometheus metrics on its
 * health port: ready means the database answers and the instance is joined to its group.
 */
export async function startConsumerApp(
  name: string,
  rootModule: DynamicModule,
  config: ConsumerConfig,
  options: ConsumerAppOptions = {},
): Promise<ConsumerApp> {
  collectProcessMetrics(name);
  const server = new KafkaEventServer({
    kafka: createKafka(config, name),
    topicPrefix: config.kafka.topicPrefix,
    groupId: `${config.kafka.topicPrefix}${name}`,
    commitIntervalMs: config.kafka.commitIntervalMs,
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    partitionsConsumedConcurrently: config.kafka.partitionsConcurrently,
  });
  const app = await NestFactory.createMicroservice(rootModule, { strategy: server, bufferLogs: true });
  app.useLogger(app.get(Logger));
  // The server classifies what a handler threw (poison, outage, bug): it must get the error itself.
  app.useGlobalFilters(new HandlerErrorFilter());
  app.enableShutdownHooks();
  const database = app.get(DatabaseConnection);
  const health = new HealthServer(
    {
      database: () => database.ping(),
      kafka: () => (server.isConsuming ? Promise.resolve() : Promise.reject(new Error(server.problem ?? 'not consuming'))),
    },
    options.metricsOf?.(app) ?? [],
  );
  await health.listen(config.health.port ?? DEFAULT_HEALTH_PORTS.get(name) ?? 0, config.health.host);
  // The health port closes with the app (and before the process exits on SIGTERM): app.close()
  // closes the transport first. Not by replacing app.close: Nest's app is a proxy that ignores it.
  const closeServer = server.close.bind(server);
  server.close = async () => {
    await health.close();
    await closeServer();
  };
  await app.listen();
  return { app, server, health };
}
