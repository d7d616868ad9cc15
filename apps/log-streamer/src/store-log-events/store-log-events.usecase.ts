import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LogEvent } from '@ulo/contracts';
import { LogEventRepository } from '@ulo/persistence';
import { isTransient } from '@ulo/resilience';
import { LogStreamerMetrics } from '../metrics/log-streamer.metrics';
import { LogStreamFanoutRepository } from './log-stream-fanout.repository';

interface Waiting {
  event: LogEvent;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const MAX_GROUP = 500;

/**
 * SPEC §5, the log-streamer's first step: each consumed event is stored once (producers usually
 * stored it already; the insert is idempotent by log_id) and, the first time it is seen, queued
 * for every matching log stream, atomically: an event is queued exactly when it is stored, and a
 * redelivered event is not queued again.
 *
 * Handlers of different partitions call `execute` concurrently; their events are committed
 * together (a group commit), so throughput does not hang on one commit per event.
 */
@Injectable()
export class StoreLogEvents {
  private readonly log = new Logger(StoreLogEvents.name);
  private waiting: Waiting[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly logEvents: LogEventRepository,
    private readonly fanouts: LogStreamFanoutRepository,
    private readonly metrics: LogStreamerMetrics,
  ) {}

  /** Resolves once the event is committed; rejects with the database error otherwise. */
  execute(event: LogEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ event, resolve, reject });
      this.flushing ??= this.flush().finally(() => {
        this.flushing = null;
      });
    });
  }

  private async flush(): Promise<void> {
    while (this.waiting.length > 0) {
      // One turn of the event loop, so that the other partitions' handlers join this commit.
      await new Promise((r) => setImmediate(r));
      const group = this.waiting.splice(0, MAX_GROUP);
      try {
        await this.commit(group.map((w) => w.event));
        group.forEach((w) => w.resolve());
      } catch (err) {
        if (group.length === 1 || isTransient(err)) {
          group.forEach((w) => w.reject(err));
          continue;
        }
        // One bad event must not fail its neighbours (they would be retried and dead-lettered
        // with it): commit them one by one.
        this.log.warn(`storing ${group.length} log events together failed (${(err as Error).message}); storing one by one`);
        for (const w of group) {
          await this.commit([w.event]).then(w.resolve, w.reject);
        }
      }
    }
  }

  private async commit(events: LogEvent[]): Promise<void> {
    // Sorted and without repeats: concurrent instances take their row locks in the same order.
    const unique = [...new Map(events.map((e) => [e.log_id, e])).values()].sort((a, b) =>
      a.log_id < b.log_id ? -1 : a.log_id > b.log_id ? 1 : 0,
    );
    // Stored and queued in one transaction: an event is queued exactly when it is stored.
    const stored = await this.dataSource.transaction(async (tx) => {
      const added = await this.logEvents.insert(tx, unique);
      await this.fanouts.fanOut(tx, unique);
      return added.length;
    });
    this.metrics.persisted.inc({ path: 'log-streamer' }, stored);
    this.metrics.persisted.inc({ path: 'producer' }, unique.length - stored);
  }
}
