import { Consumer, Kafka, Partitioners } from 'kafkajs';
import { pollUntil } from '@ulo/testing';

export interface ReadMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: string;
}

/** The sum of the high watermarks of `topic`: how many messages it holds. */
async function messageCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads `topics` from the beginning, for as long as a test file runs, in a consumer group of its
 * own: what the apps under test published, without one group join per look.
 */
export class TopicReader {
  private readonly seen = new Map<string, ReadMessage[]>();

  private constructor(
    private readonly kafka: Kafka,
    private readonly consumer: Consumer,
    private readonly topics: string[],
  ) {
    for (const topic of topics) this.seen.set(topic, []);
  }

  /** Once each of `topics` is served (the apps under test create their topics in the background). */
  static async start(kafka: Kafka, groupId: string, topics: string[]): Promise<TopicReader> {
    for (const topic of topics) {
      await pollUntil(() => messageCount(kafka, topic).then(() => true, () => false), Boolean, { timeoutMs: 45_000, what: `${topic} to be served` });
    }
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
    const reader = new TopicReader(kafka, consumer, topics);
    await consumer.connect();
    try {
      for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ topic, partition, message }) =>
          void reader.seen.get(topic)!.push({ partition, offset: message.offset, key: message.key?.toString() ?? null, value: message.value!.toString() }),
      });
    } catch (err) {
      await consumer.disconnect();
      throw err;
    }
    return reader;
  }

  /** What was read of `topic` so far, in the order read (partition order within a partition). */
  of(topic: string): ReadMessage[] {
    return [...this.seen.get(topic)!];
  }

  /** Returns once every message the topics hold now has been read. */
  async caughtUp(): Promise<void> {
    for (const topic of this.topics) {
      const count = await messageCount(this.kafka, topic);
      await pollUntil(async () => this.seen.get(topic)!.length, (n) => n >= count, { what: `the reader to read the ${count} messages of ${topic}` });
    }
  }

  async close(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** Sends `messages` to `topic` as a producer of the service does (acks from all in-sync replicas); returns where each landed. */
export async function produce(
  kafka: Kafka,
  topic: string,
  messages: { key: string | null; value: string; partition?: number }[],
): Promise<{ partition: number; offset: string }[]> {
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const placed: { partition: number; offset: string }[] = [];
    // One send per message: each one's partition and offset are known exactly.
    for (const message of messages) {
      const [sent] = await producer.send({ topic, acks: -1, messages: [message] });
      placed.push({ partition: sent.partition, offset: sent.baseOffset! });
    }
    return placed;
  } finally {
    await producer.disconnect();
  }
}

/** Returns once `groupId` has committed `topic`'s `partition` past `offset`: the message there was handled. */
export async function handledPast(kafka: Kafka, groupId: string, topic: string, at: { partition: number; offset: string }): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await pollUntil(
      async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return BigInt(committed.partitions.find((p) => p.partition === at.partition)?.offset ?? '-1');
      },
      (offset) => offset > BigInt(at.offset),
      { what: `${groupId} to commit ${topic}[${at.partition}] past offset ${at.offset}` },
    );
  } finally {
    await admin.disconnect();
  }
}
