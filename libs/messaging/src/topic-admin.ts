import { Kafka } from 'kafkajs';
import { TopicName, TopicPartitions, Topics, prefixed } from '@ulo/contracts';

/**
 * Creates the service's topics when missing (the broker has auto-creation off). Safe to call
 * from every instance at start-up.
 */
export async function ensureTopics(kafka: Kafka, prefix: string, extra: string[] = []): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = Object.values(Topics)
      .map((t: TopicName) => ({ topic: prefixed(prefix, t), numPartitions: TopicPartitions[t] }))
      .concat(extra.map((topic) => ({ topic, numPartitions: 3 })))
      .filter((t) => !existing.has(t.topic));
    if (wanted.length === 0) return;
    try {
      await admin.createTopics({ topics: wanted.map((t) => ({ ...t, replicationFactor: -1 })), waitForLeaders: true });
    } catch (err) {
      // Another instance created them first.
      if (!/already exists/i.test((err as Error).message)) throw err;
    }
  } finally {
    await admin.disconnect();
  }
}
