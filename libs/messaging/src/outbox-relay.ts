import { Logger } from '@nestjs/common';
import { CompressionTypes, Kafka, Partitioners, Producer } from 'kafkajs';
import { DataSource } from 'typeorm';

interface PendingRow {
  id: string;
  topic: string;
  message_key: string | null;
  value: string;
}

/**
 * Publishes committed outbox rows to Kafka (acks from all in-sync replicas), then deletes them.
 * Several instances may run: rows are claimed with SKIP LOCKED. A crash between send and delete
 * re-sends the rows: consumers are idempotent, so at-least-once is enough.
 */
export class OutboxRelay {
  private readonly logger = new Logger(OutboxRelay.name);
  private producer: Producer | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly kafka: Kafka,
    private readonly pollIntervalMs: number,
    private readonly batchSize = 500,
  ) {}

  async start(): Promise<void> {
    this.producer = this.kafka.producer({
      allowAutoTopicCreation: false,
      retry: { retries: 3 },
      // Murmur2, as the Java client: the user key lands on the same partition whoever produces it.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await this.producer.connect();
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.producer?.disconnect();
  }

  /** Publish now: called right after a commit so that latency does not wait for the poll. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .then(() => undefined)
      .catch((err: Error) => this.logger.warn(`outbox relay: ${err.message}; retrying on the next poll`))
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
    }, this.pollIntervalMs);
    this.timer.unref();
  }

  /** Publishes until nothing is pending. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const sent = await this.publishBatch();
      total += sent;
      if (sent < this.batchSize) return total;
    }
  }

  private async publishBatch(): Promise<number> {
    const producer = this.producer;
    if (!producer) throw new Error('outbox relay not started');
    return this.dataSource.transaction(async (tx) => {
      const rows: PendingRow[] = await tx.query(
        `SELECT id, topic, message_key, value FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.batchSize],
      );
      if (rows.length === 0) return 0;
      const byTopic = new Map<string, { key: string | null; value: string }[]>();
      for (const r of rows) {
        const list = byTopic.get(r.topic) ?? [];
        list.push({ key: r.message_key, value: r.value });
        byTopic.set(r.topic, list);
      }
      await producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
      await tx.query(`DELETE FROM outbox WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
      return rows.length;
    });
  }
}
