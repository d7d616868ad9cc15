import { Inject, Injectable, Logger, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { encodeTime } from 'ulid';
import { APP_CONFIG, LogStreamerConfig } from '@ulo/config';
import { LogStreamFanoutRepository } from './log-stream-fanout.repository';

/** Markers forgotten per statement: short transactions, no long lock on the table. */
const BATCH = 5000;

/**
 * `log_stream_fanouts` holds one marker per event ever queued: without this it would grow as
 * long as the log itself. Markers older than LOG_STREAM_FANOUT_RETENTION_HOURS are forgotten, in
 * batches, every LOG_STREAM_FANOUT_SWEEP_INTERVAL_MS (several instances may sweep; a row is
 * deleted once whoever gets it).
 */
@Injectable()
export class FanoutSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(FanoutSweeper.name);
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: LogStreamerConfig,
    private readonly fanouts: LogStreamFanoutRepository,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.sweep().catch((err: Error) => this.log.warn(`forgetting old fan-out markers failed: ${err.message}`));
    }, this.config.logStreams.fanoutSweepIntervalMs);
    this.timer.unref();
  }

  beforeApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Forgets every marker past the retention; returns how many. */
  async sweep(now = Date.now()): Promise<number> {
    const cutoff = now - this.config.logStreams.fanoutRetentionHours * 3_600_000;
    // The smallest log_id minted at the cutoff: every id below it was minted before.
    const bound = `${encodeTime(cutoff, 10)}${'0'.repeat(16)}`;
    let total = 0;
    for (;;) {
      const forgotten = await this.fanouts.forgetBefore(bound, BATCH);
      total += forgotten;
      if (forgotten < BATCH) break;
    }
    if (total > 0) this.log.log(`forgot ${total} fan-out marker(s) older than ${new Date(cutoff).toISOString()}`);
    return total;
  }
}
