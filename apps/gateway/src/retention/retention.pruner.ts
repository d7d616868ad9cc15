import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import { LogPartitionsRepository, LogoutRequestRepository, RefreshTokenRepository, SessionRepository } from '@ulo/persistence';
import { OutageReporter, isTransient } from '@ulo/resilience';

/** Rows per statement: each chunk is a short transaction, however much is due. */
const CHUNK = 1_000;
/** Days of the log whose partitions exist ahead of today (UTC), so writers never wait for one. */
const PARTITION_DAYS_AHEAD = 3;
/** The first prune after start: within a minute, not in the middle of start-up. */
const FIRST_RUN_MS = 60_000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** What one prune did. */
export interface PruneReport {
  logPartitionsCreated: string[];
  logPartitionsDropped: { name: string; rows: number }[];
  logPartitionsKept: { name: string; reason: string }[];
  /** Old events deleted one by one from the default partition (days that had no partition of their own). */
  logEventsOutsideDays: number;
  sessions: number;
  refreshTokens: number;
  logoutRequests: number;
  deliveries: number;
}

/**
 * Keeps the database bounded (see retentionEnv): every RETENTION_PRUNE_INTERVAL_MS each gateway
 * instance creates the log's partitions for the coming days, drops the days of the log older than
 * LOG_RETENTION_DAYS (whole partitions, never row by row; a day holding an event still queued for a
 * log stream stays), and deletes, in chunks through their indexes, the sessions and refresh tokens
 * revoked more than REVOKED_CREDENTIAL_RETENTION_DAYS ago and the logout requests complete for more
 * than LOGOUT_REQUEST_RETENTION_DAYS with their back-channel deliveries (not while a delivery is
 * pending, or parked less than PARKED_DELIVERY_RETENTION_DAYS ago). Instances pruning at once skip
 * each other's rows. Each prune that removed something logs how much.
 */
@Injectable()
export class RetentionPruner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(RetentionPruner.name);
  private readonly outage = new OutageReporter(this.log, 'PostgreSQL (retention prune)');
  private timers: NodeJS.Timeout[] = [];
  private pruning: Promise<PruneReport | null> | null = null;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    private readonly dataSource: DataSource,
    private readonly partitions: LogPartitionsRepository,
    private readonly sessions: SessionRepository,
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly requests: LogoutRequestRepository,
  ) {}

  onApplicationBootstrap(): void {
    this.stopped = false;
    const first = setTimeout(() => this.runInBackground(), Math.min(FIRST_RUN_MS, this.config.retention.pruneIntervalMs));
    const every = setInterval(() => this.runInBackground(), this.config.retention.pruneIntervalMs);
    first.unref();
    every.unref();
    this.timers = [first, every];
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    await this.pruning;
  }

  private runInBackground(): void {
    this.pruning ??= this.prune()
      .then((report) => {
        this.outage.recovered();
        return report;
      })
      .catch((err: Error) => {
        if (isTransient(err)) this.outage.failed(err);
        else this.log.error(`pruning failed: ${err.message}`);
        return null;
      })
      .finally(() => (this.pruning = null));
  }

  /** One prune, as of `now`. */
  async prune(now = new Date()): Promise<PruneReport> {
    const { logDays, logoutRequestDays, parkedDeliveryDays, revokedCredentialDays } = this.config.retention;
    const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);
    const manager = this.dataSource.manager;

    const created = await this.partitions.ensureAhead(PARTITION_DAYS_AHEAD, now);
    const logBefore = ago(logDays);
    const { dropped, kept } = await this.partitions.dropBefore(logBefore);
    const logEventsOutsideDays = await this.inChunks(() => this.partitions.pruneDefaultBefore(logBefore, CHUNK));
    const credentialsBefore = ago(revokedCredentialDays);
    const sessions = await this.inChunks(() => this.sessions.pruneRevokedBefore(manager, credentialsBefore, CHUNK));
    const refreshTokens = await this.inChunks(() => this.refreshTokens.pruneRevokedBefore(manager, credentialsBefore, CHUNK));
    let logoutRequests = 0;
    let deliveries = 0;
    const cutoffs = { completedBefore: ago(logoutRequestDays), parkedAfter: ago(parkedDeliveryDays) };
    await this.inChunks(async () => {
      const gone = await this.requests.pruneCompleteBefore(manager, cutoffs, CHUNK);
      logoutRequests += gone.requests;
      deliveries += gone.deliveries;
      return gone.requests;
    });

    const report = {
      logPartitionsCreated: created,
      logPartitionsDropped: dropped,
      logPartitionsKept: kept,
      logEventsOutsideDays,
      sessions,
      refreshTokens,
      logoutRequests,
      deliveries,
    };
    this.report(report);
    return report;
  }

  /** Runs `chunk` until it removes less than a whole chunk (or the app stops); the total. */
  private async inChunks(chunk: () => Promise<number>): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await chunk();
      total += n;
      if (n < CHUNK || this.stopped) return total;
      // Between chunks the pipeline's own statements go first.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private report(r: PruneReport): void {
    const { logDays, logoutRequestDays, revokedCredentialDays } = this.config.retention;
    if (r.logPartitionsCreated.length) this.log.log(`created log partitions ${r.logPartitionsCreated.join(', ')}`);
    if (r.logPartitionsDropped.length) {
      const rows = r.logPartitionsDropped.reduce((sum, p) => sum + p.rows, 0);
      const names = r.logPartitionsDropped.map((p) => p.name).join(', ');
      this.log.log(`dropped ${r.logPartitionsDropped.length} day(s) of the log older than ${logDays} days (${rows} events): ${names}`);
    }
    if (r.logEventsOutsideDays) this.log.log(`deleted ${r.logEventsOutsideDays} log event(s) older than ${logDays} days outside the day partitions`);
    for (const { name, reason } of r.logPartitionsKept) this.log.log(`kept log partition ${name} past its retention: ${reason}`);
    if (r.sessions || r.refreshTokens) {
      this.log.log(
        `deleted ${r.sessions} session(s) and ${r.refreshTokens} refresh token(s) revoked more than ${revokedCredentialDays} days ago`,
      );
    }
    if (r.logoutRequests) {
      this.log.log(
        `deleted ${r.logoutRequests} logout request(s) complete for more than ${logoutRequestDays} days, with ${r.deliveries} back-channel deliveries`,
      );
    }
  }
}
