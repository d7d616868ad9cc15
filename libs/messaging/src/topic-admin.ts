import { Admin, Kafka } from 'kafkajs';
import { TopicName, TopicPartitions, TopicRetentionMs, Topics, prefixed } from '@ulo/contracts';

/** How a new topic is replicated: copies of each partition, and how many an acks=-1 write waits for. */
export interface TopicReplication {
  replicationFactor: number;
  minInsyncReplicas: number;
}

/**
 * SPEC §8 (nothing lost): on a cluster of three brokers or more, three replicas and `min.insync.replicas=2`, so
 * that an acknowledged (acks=-1) write is on two brokers and one broker can die without losing a
 * message or refusing writes. With fewer brokers (the single development broker), one replica.
 * `min.insync.replicas` is always set, so a broker-wide default above the replica count cannot make
 * every write fail.
 */
export function replicationFor(brokerCount: number): TopicReplication {
  return brokerCount >= 3 ? { replicationFactor: 3, minInsyncReplicas: 2 } : { replicationFactor: 1, minInsyncReplicas: 1 };
}

/** How long new topics may take to have a leader for every partition, as any broker sees them. */
const LEADERS_TIMEOUT_MS = 30_000;
const LEADERS_POLL_MS = 100;
/** What a broker answers about a topic created a moment ago that its metadata does not show yet. */
const NOT_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER']);

function notYet(err: unknown): boolean {
  for (let e = err as { type?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (NOT_YET.has(e.type ?? '')) return true;
  }
  return false;
}

/**
 * Returns once every partition of `topics` has a leader. kafkajs' own `waitForLeaders` gives up at
 * the first "unknown topic" from a broker that has not seen the creation yet (seen with two
 * instances creating the same topics at once), and the instance that lost the creation race does
 * not wait at all.
 */
async function waitForLeaders(admin: Admin, topics: string[]): Promise<void> {
  const deadline = Date.now() + LEADERS_TIMEOUT_MS;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      if (metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) {
        // A leader in the metadata is not yet a leader that hosts the partition: a write then fails
        // for some partitions, and kafkajs' retry of the whole request duplicates the others. Asking
        // every leader for its offsets proves each partition is served.
        for (const topic of topics) await admin.fetchTopicOffsets(topic);
        return;
      }
    } catch (err) {
      if (!notYet(err) || Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics without a leader after ${LEADERS_TIMEOUT_MS} ms: ${topics.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, LEADERS_POLL_MS));
  }
}

/**
 * Creates those of `topics` that are missing (the broker has auto-creation off), replicated as
 * {@link replicationFor} says for the brokers the cluster lists now, waits until each partition has
 * a leader, and returns their names. Safe from several instances at once: kafkajs answers a topic
 * created meanwhile by another instance as "nothing created", not as an error.
 */
export async function createTopicsIfMissing(
  kafka: Kafka,
  topics: { topic: string; numPartitions: number; retentionMs?: number }[],
): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = topics.filter((t) => !existing.has(t.topic));
    if (wanted.length === 0) return [];
    // The metadata lists live brokers only: a cluster of three with one broker down gets topics of
    // one replica, so create the topics (start the apps once) with every broker up.
    const { replicationFactor, minInsyncReplicas } = replicationFor((await admin.describeCluster()).brokers.length);
    await admin.createTopics({
      topics: wanted.map(({ topic, numPartitions, retentionMs }) => ({
        topic,
        numPartitions,
        replicationFactor,
        configEntries: [
          { name: 'min.insync.replicas', value: String(minInsyncReplicas) },
          // Without one, the broker's default (log.retention.hours, 168 unless changed).
          ...(retentionMs === undefined ? [] : [{ name: 'retention.ms', value: String(retentionMs) }]),
        ],
      })),
      waitForLeaders: false, // waited for below, with retries kafkajs lacks
    });
    await waitForLeaders(admin, wanted.map((t) => t.topic));
    return wanted.map((t) => t.topic);
  } finally {
    await admin.disconnect();
  }
}

/** The service's own topics, created when missing; every app calls it at start-up. */
export async function ensureTopics(kafka: Kafka, prefix: string): Promise<void> {
  await createTopicsIfMissing(
    kafka,
    Object.values(Topics).map((t: TopicName) => ({
      topic: prefixed(prefix, t),
      numPartitions: TopicPartitions[t],
      retentionMs: TopicRetentionMs[t],
    })),
  );
}
