import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Gauge, register } from 'prom-client';
import { DataSource } from 'typeorm';
import { MetricSeries } from '@ulo/contracts';
import { OutboxRepository } from '@ulo/persistence';

/** Rows counted at most (OutboxRepository.countWaiting). */
export const OUTBOX_BACKLOG_CAP = 10_000;
/** A scrape counts again only when the last count is older than this. */
const MAX_AGE_MS = 5_000;
/** A scrape waits this long for a count at most (the database may hang), then shows the last one. */
const WAIT_MS = 1_000;

/** The started instances; the gauge shows the last one's count (there is one per process outside tests). */
const started = new Set<OutboxBacklog>();

new Gauge({
  name: MetricSeries.outboxBacklog.name,
  help: MetricSeries.outboxBacklog.help,
  registers: [register],
  async collect() {
    const last = [...started].at(-1);
    if (last) this.set(await last.sample());
  },
});

/**
 * `ulo_outbox_backlog`: the rows every relay has still to publish (they wait while Kafka is away),
 * counted at scrape time, up to OUTBOX_BACKLOG_CAP and at most once per MAX_AGE_MS. While the
 * database does not answer, the gauge keeps its last count (readiness reports the database).
 */
@Injectable()
export class OutboxBacklog implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private last = 0;
  private countedAt = 0;
  private counting: Promise<void> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxRepository,
  ) {}

  onApplicationBootstrap(): void {
    started.add(this);
  }

  beforeApplicationShutdown(): void {
    started.delete(this);
  }

  /** The rows waiting, from a count at most MAX_AGE_MS old, or the last one if a new one takes too long. */
  async sample(): Promise<number> {
    if (Date.now() - this.countedAt >= MAX_AGE_MS) this.counting ??= this.count().finally(() => (this.counting = null));
    if (this.counting) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.counting, new Promise((resolve) => (timer = setTimeout(resolve, WAIT_MS)))]);
      clearTimeout(timer);
    }
    return this.last;
  }

  private async count(): Promise<void> {
    try {
      if (!this.dataSource.isInitialized) return;
      this.last = await this.outbox.countWaiting(this.dataSource.manager, OUTBOX_BACKLOG_CAP);
    } catch {
      // Kept: the next scrape after MAX_AGE_MS tries again.
    } finally {
      this.countedAt = Date.now();
    }
  }
}
