import { Logger } from '@nestjs/common';
import { CompressionTypes, Kafka, Partitioners, Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { DeadLetter, Topics, prefixed } from '@ulo/contracts';
import { OutboxRepository, type PendingOutboxRow } from '@ulo/persistence';
import { OutageReporter, isTransient, retryForever } from '@ulo/resilience';
import { ensureTopics } from './topic-admin';

export interface OutboxRelayOptions {
  pollIntervalMs: number;
  topicPrefix: string;
  /** Rows claimed per transaction at most. */
  batchSize?: number;
  /**
   * Bytes (keys and values) sent per request at most: below the broker's `message.max.bytes`
   * (1 MiB by default), which bounds each partition's record batch, so that no batch can be refused
   * for its size however the rows fall on partitions.
   */
  maxBatchBytes?: number;
}

const DEFAULT_MAX_BATCH_BYTES = 900 * 1024;

/** The rows of `rows`, in order, that fit in `maxBytes` (at least the first one). */
export function takeWithinBytes<T extends { key: string | null; value: string }>(rows: T[], maxBytes: number): T[] {
  let bytes = 0;
  let n = 0;
  for (const row of rows) {
    bytes += Buffer.byteLength(row.value) + (row.key === null ? 0 : Buffer.byteLength(row.key));
    if (n > 0 && bytes > maxBytes) break;
    n++;
  }
  return rows.slice(0, n);
}

/**
 * Publishes committed outbox rows to Kafka (acks from all in-sync replicas), then deletes them.
 * Several instances may run: rows are claimed with SKIP LOCKED. A crash between send and delete
 * re-sends the rows: consumers are idempotent, so at-least-once is enough.
 *
 * It never wedges (SPEC §8): while Kafka is unreachable the rows wait and the relay retries (one
 * warning when Kafka goes, one line when it is back); batches are bounded in bytes; a row the
 * broker refuses for good is isolated, dead-lettered and removed, and the rows behind it go on.
 */
export class OutboxRelay {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly outage = new OutageReporter(this.logger, 'Kafka (outbox relay)');
  private readonly databaseOutage = new OutageReporter(this.logger, 'PostgreSQL (outbox relay)');
  private producer: Producer | null = null;
  private connected = false;
  private connecting: Promise<unknown> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly batchSize: number;
  private readonly maxBatchBytes: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxRepository,
    private readonly kafka: Kafka,
    private readonly options: OutboxRelayOptions,
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  }

  /** Starts polling at once and connects the producer in the background, for as long as it takes. */
  start(): void {
    this.stopped = false;
    const producer = this.kafka.producer({
      allowAutoTopicCreation: false,
      retry: { retries: 3 },
      // Murmur2, as the Java client: the user key lands on the same partition whoever produces it.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.producer = producer;
    this.connecting = retryForever(
      async () => {
        // Every app creates the missing topics of the service, once Kafka answers.
        await ensureTopics(this.kafka, this.options.topicPrefix);
        await producer.connect();
      },
      {
        reporter: this.outage,
        stopped: () => this.stopped,
      },
    ).then(() => {
      this.connected = !this.stopped;
      this.kick();
    });
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.connecting;
    await this.running;
    await this.producer?.disconnect().catch(() => undefined);
    this.connected = false;
  }

  /** Why publishing is not possible now (for readiness reports), or null. */
  get problem(): string | null {
    if (this.outage.isDown) return `Kafka unreachable: ${this.outage.lastFailure}`;
    return this.connected ? null : 'not connected to Kafka yet';
  }

  /** Publish now: called right after a commit so that latency does not wait for the poll. */
  kick(): void {
    if (this.stopped || !this.connected) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .then(() => {
        this.outage.recovered();
        this.databaseOutage.recovered();
      })
      .catch((err: unknown) => {
        // The outage is named after what failed: the broker (a kafkajs error) or the database.
        const fromKafka = String((err as Error)?.name ?? '').startsWith('KafkaJS');
        if (isTransient(err)) (fromKafka ? this.outage : this.databaseOutage).failed(err);
        else this.logger.error(`outbox relay: ${(err as Error)?.message ?? String(err)}; retrying on the next poll`);
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.kick();
      this.schedule();
    }, this.options.pollIntervalMs);
    this.timer.unref();
  }

  /** Publishes until nothing is pending; the number of rows published. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const { published, more } = await this.publishBatch();
      total += published;
      if (!more) return total;
    }
  }

  private async publishBatch(): Promise<{ published: number; more: boolean }> {
    const producer = this.producer;
    if (!producer) throw new Error('outbox relay not started');
    return this.dataSource.transaction(async (tx) => {
      const claimed = await this.outbox.claim(tx, this.batchSize);
      if (claimed.length === 0) return { published: 0, more: false };
      const rows = takeWithinBytes(claimed, this.maxBatchBytes);
      let done: PendingOutboxRow[];
      try {
        await this.send(producer, rows);
        done = rows;
      } catch (err) {
        if (isTransient(err)) throw err;
        done = await this.isolate(producer, rows, err);
      }
      await this.outbox.remove(tx, done.map((r) => r.id));
      return { published: done.length, more: claimed.length === this.batchSize || rows.length < claimed.length };
    });
  }

  private async send(producer: Producer, rows: PendingOutboxRow[]): Promise<void> {
    const byTopic = new Map<string, { key: string | null; value: string }[]>();
    for (const r of rows) {
      const list = byTopic.get(r.topic) ?? [];
      list.push({ key: r.key, value: r.value });
      byTopic.set(r.topic, list);
    }
    await producer.sendBatch({
      acks: -1,
      compression: CompressionTypes.None,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  }

  /**
   * The broker refused the batch for good: send the rows one by one, so that only the row at
   * fault is dead-lettered. Returns the rows that are dealt with (sent or dead-lettered); a
   * transient failure on the way stops there, and the rest waits for the next attempt.
   */
  private async isolate(producer: Producer, rows: PendingOutboxRow[], batchError: unknown): Promise<PendingOutboxRow[]> {
    this.logger.warn(`outbox relay: the broker refused a batch of ${rows.length} (${(batchError as Error)?.message}); sending one by one`);
    const done: PendingOutboxRow[] = [];
    for (const row of rows) {
      try {
        await this.send(producer, [row]);
      } catch (err) {
        if (isTransient(err)) break;
        await this.deadLetter(producer, row, err);
      }
      done.push(row);
    }
    return done;
  }

  private async deadLetter(producer: Producer, row: PendingOutboxRow, err: unknown): Promise<void> {
    const reason = `the broker refused outbox row ${row.id} for ${row.topic}: ${(err as Error)?.message ?? String(err)}`;
    this.logger.error(`dead-lettering: ${reason}`);
    const letter = (value: string | null): DeadLetter => ({
      sourceTopic: row.topic,
      partition: -1,
      offset: `outbox:${row.id}`,
      consumerGroup: 'outbox-relay',
      error: value === null ? `${reason} (value of ${Buffer.byteLength(row.value)} bytes not kept)` : reason,
      value,
      key: row.key,
    });
    const topic = prefixed(this.options.topicPrefix, Topics.deadLetter);
    try {
      await producer.send({ topic, acks: -1, messages: [{ key: row.key, value: JSON.stringify(letter(row.value)) }] });
    } catch (e) {
      if (isTransient(e)) throw e;
      // The value itself is what the broker refuses: keep the record of it without the value.
      await producer.send({ topic, acks: -1, messages: [{ key: row.key, value: JSON.stringify(letter(null)) }] });
    }
  }
}
