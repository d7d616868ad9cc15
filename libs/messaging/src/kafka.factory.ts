import { Logger } from '@nestjs/common';
import { Kafka, LogEntry, logLevel } from 'kafkajs';
import type { KafkaConfig } from '@ulo/config';

/** The same kafkajs complaint at most once per this many milliseconds: an outage is not a log flood. */
const REPEAT_WINDOW_MS = 30_000;

/**
 * kafkajs logs every retry at ERROR. Its lines go to the app's logger, each distinct message at
 * most once per window; the apps' own OutageReporter lines say when an outage starts and ends.
 */
function kafkaLogCreator(clientId: string) {
  const logger = new Logger(`kafkajs:${clientId}`);
  const lastSeen = new Map<string, number>();
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      const key = `${namespace}:${log.message}`;
      const now = Date.now();
      if ((lastSeen.get(key) ?? 0) > now - REPEAT_WINDOW_MS) return;
      if (lastSeen.size > 1000) lastSeen.clear();
      lastSeen.set(key, now);
      const line = `${namespace}: ${log.message}`;
      if (level === logLevel.ERROR || level === logLevel.WARN) logger.warn(line);
      else logger.log(line);
    };
}

export function createKafka(config: { kafka: KafkaConfig }, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: config.kafka.brokers,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(clientId),
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5000 },
  });
}
