import { Logger } from '@nestjs/common';
import { Kafka, LogEntry, logLevel } from 'kafkajs';
import { LRUCache } from 'lru-cache';
import type { KafkaConfig } from '@ulo/config';

/** The same kafkajs complaint at most once per this many milliseconds: an outage is not a log flood. */
const REPEAT_WINDOW_MS = 30_000;

/**
 * kafkajs logs every retry at ERROR. Its lines go to the app's logger, each distinct message at
 * most once per window; the apps' own OutageReporter lines say when an outage starts and ends.
 */
function kafkaLogCreator(clientId: string) {
  const logger = new Logger(`kafkajs:${clientId}`);
  // Distinct messages remembered for the window; beyond this many the oldest may repeat early.
  const lastSeen = new LRUCache<string, true>({ max: 1000, ttl: REPEAT_WINDOW_MS });
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      const key = `${namespace}:${log.message}`;
      if (lastSeen.has(key)) return;
      lastSeen.set(key, true);
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
