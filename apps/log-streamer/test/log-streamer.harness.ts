import { INestMicroservice } from '@nestjs/common';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { KafkaConfig, LogStreamerConfig } from '@ulo/config';
import { LogEvent, LogEventInput, Topics, prefixed } from '@ulo/contracts';
import { buildLogEvent, startConsumerApp } from '@ulo/messaging';
import { logStreamerTestConfig } from '@ulo/testing';
import { LogStreamScheduler } from '../src/deliver-log-streams/log-stream-scheduler.service';
import { LogStreamerModule } from '../src/log-streamer.module';
import { LogStreamerMetrics } from '../src/metrics/log-streamer.metrics';
import { MetricsServer } from '../src/metrics/metrics.server';

/** Delivery settings that make a test's retries and suspensions take milliseconds. */
export const fastLogStreams: Record<string, string> = {
  LOG_STREAM_BATCH_WINDOW_MS: '200',
  LOG_STREAM_POLL_INTERVAL_MS: '50',
  LOG_STREAM_RETRY_BASE_MS: '20',
  LOG_STREAM_RETRY_MAX_MS: '100',
  LOG_STREAM_MAX_FAILURES: '12',
  LOG_STREAM_LEASE_MS: '3000',
  LOG_STREAMER_METRICS_PORT: '0',
};

export interface RunningLogStreamer {
  app: INestMicroservice;
  config: LogStreamerConfig;
  metricsUrl: string;
  scheduler: LogStreamScheduler;
  close(): Promise<void>;
}

/** The real log-streamer, in this process, on the run's PostgreSQL and Kafka. */
export async function startLogStreamer(overrides: Record<string, string> = {}): Promise<RunningLogStreamer> {
  const config = logStreamerTestConfig({ ...fastLogStreams, ...overrides });
  const { app } = await startConsumerApp('log-streamer', LogStreamerModule.forRoot(config), config, {
    metricsOf: (a) => [a.get(LogStreamerMetrics).registry],
  });
  return {
    app,
    config,
    metricsUrl: `http://127.0.0.1:${app.get(MetricsServer).port}/metrics`,
    scheduler: app.get(LogStreamScheduler),
    close: () => app.close(),
  };
}

/**
 * Publishes log events to `<prefix>log-events` as a producer would (key log_id, value the bare
 * event), without storing them: the log-streamer has to.
 */
export async function publishLogEvents(config: { kafka: KafkaConfig }, inputs: LogEventInput[]): Promise<LogEvent[]> {
  const events = inputs.map((i) => buildLogEvent(i));
  const kafka = new Kafka({ brokers: config.kafka.brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 500) {
      await producer.send({
        topic: prefixed(config.kafka.topicPrefix, Topics.logEvents),
        acks: -1,
        messages: events.slice(i, i + 500).map((e) => ({ key: e.log_id, value: JSON.stringify(e) })),
      });
    }
  } finally {
    await producer.disconnect();
  }
  return events;
}

/** One event of each type of SPEC §5, with its category in the description. */
export function oneOfEachType(userId = 'auth0|ann'): LogEventInput[] {
  return [
    { type: 'universal_logout_succeeded', description: 'auth.logout.success', user_id: userId, connection: 'acme-okta' },
    { type: 'universal_logout_failed', description: 'auth.logout.fail', connection: 'acme-okta', details: { error: 'invalid_token' } },
    { type: 'oidc_backchannel_logout_succeeded', description: 'auth.logout.success', user_id: userId, client_id: 'app-1' },
    { type: 'oidc_backchannel_logout_failed', description: 'auth.logout.fail', user_id: userId, client_id: 'app-1' },
    { type: 'srrt', description: 'user.success', user_id: userId, client_id: 'app-1', details: { credential_id: 'rt_1' } },
    { type: 'sapi', description: 'management.success' },
    { type: 'fapi', description: 'management.fail' },
  ];
}
