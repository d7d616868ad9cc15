import { Kafka } from 'kafkajs';
import { TopicName, TopicPartitions, Topics, prefixed } from '@ulo/contracts';

/**
 * Creates those of `topics` that are missing (the broker has auto-creation off) and returns their
 * names. Safe from several instances at once: kafkajs answers a topic created meanwhile by
 * another instance as "nothing created", not as an error.
 */
export async function createTopicsIfMissing(kafka: Kafka, topics: { topic: string; numPartitions: number }[]): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = topics.filter((t) => !existing.has(t.topic));
    if (wanted.length === 0) return [];
    await admin.createTopics({ topics: wanted.map((t) => ({ ...t, replicationFactor: -1 })), waitForLeaders: true });
    return wanted.map((t) => t.topic);
  } finally {
    await admin.disconnect();
  }
}

/** The service's own topics, created when missing; every app calls it at start-up. */
export async function ensureTopics(kafka: Kafka, prefix: string): Promise<void> {
  await createTopicsIfMissing(
    kafka,
    Object.values(Topics).map((t: TopicName) => ({ topic: prefixed(prefix, t), numPartitions: TopicPartitions[t] })),
  );
}
