import { Kafka, logLevel } from 'kafkajs';
import { dropDatabase } from './database';
import { deleteTopicsWithPrefix } from './kafka-topics';
import { TEST_DATABASE_ENV, TEST_PREFIX_ENV } from './test-environment';

export default async function globalTeardown(): Promise<void> {
  const url = process.env[TEST_DATABASE_ENV];
  if (url && process.env.KEEP_TEST_DATABASE !== 'true') await dropDatabase(url);
  await forgetTopics(process.env[TEST_PREFIX_ENV]);
}

/**
 * The run's topics and consumer groups go with its database: a broker that keeps every run's
 * hundred topics (some 800 partitions) gets slower for whatever runs on it next, benchmarks
 * included. Best effort: a broker that does not answer leaves them, and the run's result stands.
 */
async function forgetTopics(prefix: string | undefined): Promise<void> {
  if (!prefix || process.env.KEEP_TEST_DATABASE === 'true') return;
  const kafka = new Kafka({
    clientId: 'ulo-test-teardown',
    brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { retries: 1 },
  });
  try {
    await deleteTopicsWithPrefix(kafka, prefix);
  } catch (err) {
    process.stderr.write(`test teardown: the topics under ${prefix} were left on the broker (${(err as Error).message})\n`);
  }
}
