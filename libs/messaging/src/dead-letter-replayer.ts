import { Admin, Consumer, EachMessagePayload, Kafka, Partitioners, Producer } from 'kafkajs';
import { DeadLetter, TopicName, Topics, deadLetterSchema, prefixed } from '@ulo/contracts';

export interface DeadLetterReplayOptions {
  /** Say what would be replayed; publish nothing, commit nothing. */
  dryRun?: boolean;
  /** Replay only the letters of this source topic (with or without the deployment's prefix). */
  sourceTopic?: string;
  /** Fail when no letter arrives for this long while the end of the topic is not reached. */
  idleTimeoutMs?: number;
}

export interface DeadLetterReplaySummary {
  replayed: number;
  /** Letters that can never be replayed: no value, not a dead letter, or an unknown source topic. */
  skipped: number;
  /** Letters of other source topics, left for a later run (--source-topic). */
  left: number;
}

/**
 * Re-publishes what the consumers dead-lettered: each letter's original value, with its original
 * key, to its source topic (acks -1), then commits the letter's offset in the group
 * `<prefix>dead-letter-replay`, so a second run replays nothing twice. It reads up to the end of the
 * dead-letter topic as it was when the run began, then stops. With a source-topic filter, a
 * partition's offset is committed only up to its first letter left behind, so that a later run still
 * sees that letter (and replays again the matching letters behind it: every consumer step is
 * idempotent).
 */
export class DeadLetterReplayer {
  readonly topic: string;
  readonly groupId: string;

  constructor(
    private readonly kafka: Kafka,
    private readonly topicPrefix: string,
    private readonly say: (line: string) => void = () => undefined,
  ) {
    this.topic = prefixed(topicPrefix, Topics.deadLetter);
    this.groupId = `${topicPrefix}dead-letter-replay`;
  }

  async replay(options: DeadLetterReplayOptions = {}): Promise<DeadLetterReplaySummary> {
    const summary: DeadLetterReplaySummary = { replayed: 0, skipped: 0, left: 0 };
    const ends = await this.partitionsToRead();
    if (ends.size === 0) return summary;
    const remaining = new Set(ends.keys());

    const producer: Producer | null = options.dryRun
      ? null
      : this.kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    const consumer: Consumer = this.kafka.consumer({ groupId: this.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 });
    const wanted = options.sourceTopic;
    const blocked = new Set<number>();
    let finished = false;
    let finish!: (err?: Error) => void;
    const done = new Promise<void>((resolve, reject) => {
      finish = (err) => {
        if (finished) return;
        finished = true;
        if (err === undefined) resolve();
        else reject(err);
      };
    });
    // A failure before `await done` below is not an unhandled rejection; it still throws there.
    done.catch(() => undefined);
    let lastProgress = Date.now();

    const handle = async ({ partition, message }: EachMessagePayload): Promise<void> => {
      // Letters written since the run began are left for the next run.
      const end = ends.get(partition);
      if (finished || end === undefined || Number(message.offset) >= end) return;
      lastProgress = Date.now();
      const at = `${partition}@${message.offset}`;
      const letter = this.letterOf(message.value?.toString() ?? null);
      if (typeof letter === 'string') {
        summary.skipped++;
        this.say(`skipped ${at}: ${letter}`);
      } else if (wanted !== undefined && letter.sourceTopic !== wanted && letter.sourceTopic !== `${this.topicPrefix}${wanted}`) {
        summary.left++;
        blocked.add(partition);
      } else if (letter.value === null) {
        summary.skipped++;
        this.say(`skipped ${at}: the dead-lettered message had no value (${letter.sourceTopic} ${letter.partition}@${letter.offset})`);
      } else {
        const what = `${letter.sourceTopic} key ${JSON.stringify(letter.key)} (dead-lettered from ${letter.partition}@${letter.offset} by ${letter.consumerGroup}: ${letter.error})`;
        if (producer) {
          await producer.send({ topic: letter.sourceTopic, acks: -1, messages: [{ key: letter.key, value: letter.value }] });
          this.say(`replayed ${at} to ${what}`);
        } else {
          this.say(`would replay ${at} to ${what}`);
        }
        summary.replayed++;
      }
      const next = Number(message.offset) + 1;
      if (producer && !blocked.has(partition)) {
        await consumer.commitOffsets([{ topic: this.topic, partition, offset: String(next) }]);
      }
      if (next >= end) remaining.delete(partition);
      if (remaining.size === 0) finish();
    };

    const idleTimeoutMs = options.idleTimeoutMs ?? 30000;
    let watchdog: NodeJS.Timeout | undefined;
    try {
      await producer?.connect();
      await consumer.connect();
      await consumer.subscribe({ topic: this.topic, fromBeginning: true });
      await consumer.run({ autoCommit: false, eachMessage: (payload) => handle(payload).catch((err: unknown) => finish(err instanceof Error ? err : new Error('replaying a dead letter failed', { cause: err }))) });
      lastProgress = Date.now();
      watchdog = setInterval(() => {
        if (Date.now() - lastProgress > idleTimeoutMs) {
          finish(new Error(`no dead letter read for ${idleTimeoutMs} ms; partitions not caught up: ${[...remaining].join(', ')}`));
        }
      }, 250);
      await done;
      return summary;
    } finally {
      clearInterval(watchdog);
      await consumer.disconnect();
      await producer?.disconnect();
    }
  }

  /**
   * The partitions of the dead-letter topic that hold letters the group has not committed yet, each
   * with its high watermark as of now: the run stops there.
   */
  private async partitionsToRead(): Promise<Map<number, number>> {
    const admin: Admin = this.kafka.admin();
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(this.topic)) return new Map();
      const ends = await admin.fetchTopicOffsets(this.topic);
      const [committed] = await admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] });
      const from = new Map(committed?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
      const remaining = new Map<number, number>();
      for (const end of ends) {
        const start = Math.max(Number(end.low), from.get(end.partition) ?? -1);
        if (start < Number(end.high)) remaining.set(end.partition, Number(end.high));
      }
      return remaining;
    } finally {
      await admin.disconnect();
    }
  }

  /** The letter, or why it cannot be replayed. */
  private letterOf(raw: string | null): DeadLetter | string {
    if (raw === null) return 'empty dead letter';
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return 'the dead letter is not JSON';
    }
    const parsed = deadLetterSchema.safeParse(json);
    if (!parsed.success) return `not a dead letter: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`;
    // Only back to a topic of this deployment, and never into the dead-letter topic itself.
    const source = parsed.data.sourceTopic;
    const known = (Object.values(Topics) as TopicName[]).filter((t) => t !== Topics.deadLetter).map((t) => prefixed(this.topicPrefix, t));
    if (!known.includes(source)) return `source topic ${source} is not one of this deployment's topics`;
    return parsed.data;
  }
}
