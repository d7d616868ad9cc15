import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Counter, register } from 'prom-client';
import { DataSource } from 'typeorm';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import { OutboxRelay } from '@ulo/messaging';
import { LogoutRequestRepository } from '@ulo/persistence';
import { OutageReporter, isTransient } from '@ulo/resilience';
import { AcceptedLogouts } from './accepted-logouts';

/** Requests re-announced per sweep at most; a larger backlog takes several sweeps. */
const BATCH = 500;

const reannounced = new Counter({
  name: 'ulo_logout_requests_reannounced_total',
  help: 'Logout requests announced again because they were not complete after LOGOUT_STUCK_AFTER_SECONDS',
  registers: [register],
});

/**
 * SPEC §8 self-healing: a logout request that is not complete `LOGOUT_STUCK_AFTER_SECONDS` after it
 * was accepted (a message lost to an operator's mistake, a consumer group reset, a bug fixed since)
 * gets its `logout-requested` event written to the outbox again. Safe because every consumer step
 * is idempotent: a step already done is skipped. Each re-announcement is counted and logged.
 */
@Injectable()
export class StuckLogoutSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(StuckLogoutSweeper.name);
  private readonly outage = new OutageReporter(this.log, 'PostgreSQL (stuck logout sweep)');
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<number> | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    private readonly dataSource: DataSource,
    private readonly requests: LogoutRequestRepository,
    private readonly logouts: AcceptedLogouts,
    private readonly relay: OutboxRelay,
  ) {}

  onApplicationBootstrap(): void {
    // A few looks per period, never more than one a second nor fewer than one every 15 s.
    const every = Math.min(15_000, Math.max(1_000, (this.config.logoutStuckAfterSeconds * 1000) / 4));
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .then((n) => {
          this.outage.recovered();
          return n;
        })
        .catch((err: Error) => {
          if (isTransient(err)) this.outage.failed(err);
          else this.log.error(`sweeping stuck logout requests failed: ${err.message}`);
          return 0;
        })
        .finally(() => (this.sweeping = null));
    }, every);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
  }

  /** Re-announces what is stuck now; the number of requests. */
  async sweep(): Promise<number> {
    const after = this.config.logoutStuckAfterSeconds;
    const stuck = await this.dataSource.transaction(async (tx) => {
      const rows = await this.requests.markStuckForReannouncement(tx, after, BATCH);
      await this.logouts.announce(tx, rows.map((r) => r.payload));
      return rows;
    });
    if (stuck.length === 0) return 0;
    reannounced.inc(stuck.length);
    this.relay.kick();
    const shown = stuck.slice(0, 5).map((r) => `${r.id} (time ${r.reannouncements})`).join(', ');
    this.log.warn(
      `re-announced ${stuck.length} logout request(s) not complete after ${after} s: ${shown}${stuck.length > 5 ? ', …' : ''}`,
    );
    return stuck.length;
  }
}
