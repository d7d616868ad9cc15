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
   * How long a kick waits before publishing, so that the commits of that moment (several
   * consumers' batches, a group commit of the gateway) go out in one transaction and one request.
   */
  lingerMs?: number;
  /**
   * Bytes (keys and values) sent per request at most: below the broker's `message.max.bytes`
   * (1 MiB by default), which bounds each partition's record batch, so that no batch can be refused
   * for its size however the rows fall on partitions.
   */
  maxBatchBytes?: number;
}

const DEFAULT_MAX_BATCH_BYTES = 900 * 1024;
const DEFAULT_LINGER_MS = 3;

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
  private lingering: NodeJS.Timeout | null = null;
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
      // No retries inside kafkajs 2.2.4: after a leader change its retry sends again only to the
      // brokers that have not answered, so messages of a partition that moved to a broker which had
      // answered are never sent, and the send still succeeds (seen in the fault test: back-channel
      // events lost when a broker died). A failed send rolls the whole batch back into the outbox
      // instead, and the relay sends it all again: duplicates, which consumers absorb, never a loss.
      retry: { retries: 0 },
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
    if (this.lingering) clearTimeout(this.lingering);
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

  /** Publish soon (after the linger): called right after a commit so that latency does not wait for the poll. */
  kick(): void {
    if (this.stopped || !this.connected) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.lingering ??= setTimeout(() => {
      this.lingering = null;
      this.run();
    }, this.options.lingerMs ?? DEFAULT_LINGER_MS);
  }

  private run(): void {
    if (this.stopped || this.running) return;
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

  /**
   * One transaction: take up to a batch of rows out of the outbox, publish them in requests
   * bounded in bytes, commit. Any transient failure rolls the whole batch back into the outbox
   * (rows already sent are sent again: at least once).
   */
  private async publishBatch(): Promise<{ published: number; more: boolean }> {
    const producer = this.producer;
    if (!producer) throw new Error('outbox relay not started');
    return this.dataSource.transaction(async (tx) => {
      const taken = await this.outbox.take(tx, this.batchSize);
      for (let rest = taken; rest.length > 0; ) {
        const rows = takeWithinBytes(rest, this.maxBatchBytes);
        try {
          await this.send(producer, rows);
        } catch (err) {
          if (isTransient(err)) throw err;
          await this.isolate(producer, rows, err);
        }
        rest = rest.slice(rows.length);
      }
      return { published: taken.length, more: taken.length === this.batchSize };
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
   * The broker refused a request for good: send its rows one by one, so that only the row at
   * fault is dead-lettered. A transient failure on the way is thrown (the batch goes back).
   */
  private async isolate(producer: Producer, rows: PendingOutboxRow[], batchError: unknown): Promise<void> {
    this.logger.warn(`outbox relay: the broker refused a batch of ${rows.length} (${(batchError as Error)?.message}); sending one by one`);
    for (const row of rows) {
      try {
        await this.send(producer, [row]);
      } catch (err) {
        if (isTransient(err)) throw err;
        await this.deadLetter(producer, row, err);
      }
    }
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
