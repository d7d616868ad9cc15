import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LogEvent } from '@ulo/contracts';
import { LogEventRepository } from '@ulo/persistence';
import { LogStreamerMetrics } from '../metrics/log-streamer.metrics';
import { LogStreamFanoutRepository } from './log-stream-fanout.repository';

/**
 * SPEC §5, the log-streamer's first step, a batch at a time: each consumed event is stored once
 * (producers usually stored it already; the insert is idempotent by log_id) and, the first time it
 * is seen, queued for every matching log stream, in one transaction: an event is queued exactly
 * when it is stored, and a redelivered event is not queued again.
 */
@Injectable()
export class StoreLogEvents {
  constructor(
    private readonly dataSource: DataSource,
    private readonly logEvents: LogEventRepository,
    private readonly fanouts: LogStreamFanoutRepository,
    private readonly metrics: LogStreamerMetrics,
  ) {}

  async execute(events: LogEvent[]): Promise<void> {
    // Sorted and without repeats: concurrent instances take their row locks in the same order.
    const unique = [...new Map(events.map((e) => [e.log_id, e])).values()].sort((a, b) =>
      a.log_id < b.log_id ? -1 : a.log_id > b.log_id ? 1 : 0,
    );
    const stored = await this.dataSource.transaction(async (tx) => {
      const added = await this.logEvents.insert(tx, unique);
      await this.fanouts.fanOut(tx, unique);
      return added.length;
    });
    this.metrics.persisted.inc({ path: 'log-streamer' }, stored);
    this.metrics.persisted.inc({ path: 'producer' }, unique.length - stored);
  }
}
