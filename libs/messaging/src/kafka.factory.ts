import { Kafka, logLevel } from 'kafkajs';
import type { AppConfig } from '@ulo/config';

export function createKafka(config: AppConfig, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: config.kafka.brokers,
    logLevel: logLevel.WARN,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5000 },
  });
}
