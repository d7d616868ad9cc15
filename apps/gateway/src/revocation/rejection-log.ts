import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import { LogEventInput } from '@ulo/contracts';
import { LogEventRecorder, OutboxRelay, capText } from '@ulo/messaging';
import { GtrException } from './gtr.exception';
import { RevocationAttempt } from './revocation-attempt';
import { TokenBucket } from './token-bucket';

/** Rejections kept as examples in an aggregated event. */
const SAMPLE_SIZE = 5;
/** Budgets kept: two per connection that rejections named (authenticated or not), and two for unknown names. */
const MAX_BUDGETS = 20_000;

interface Aggregate {
  connection: string | null;
  authenticated: boolean;
  count: number;
  byStatus: Record<string, number>;
  sample: Record<string, unknown>[];
  from: string;
}

/**
 * SPEC §2 "Hostile traffic", §5: every rejected revocation request is logged as
 * `universal_logout_failed`, but a rejection costs a synchronous database write only within a
 * budget per connection per second (GTR_REJECTION_LOG_PER_SECOND; names of no connection share one
 * budget). Beyond it rejections are counted in memory and written every
 * GTR_REJECTION_LOG_INTERVAL_SECONDS as one event per connection, with `details.aggregated`:
 * `{count, by_status, sample, from, to, authenticated}`.
 *
 * Rejections of requests whose token verified (an unknown user, a replay, the connection's rate
 * limit) have a budget of their own: junk cannot push the IdP's own failures out of the log.
 */
@Injectable()
export class RejectionLog implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(RejectionLog.name);
  private readonly budgets = new LRUCache<string, TokenBucket>({ max: MAX_BUDGETS });
  /** Keyed like the budgets; only connections that exist and one entry for unknown names: bounded. */
  private pending = new Map<string, Aggregate>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    private readonly logs: LogEventRecorder,
    private readonly relay: OutboxRelay,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), this.config.rejectionLog.intervalSeconds * 1000);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  /** Logs `err` for `attempt`: written now within the budget, else counted for the next aggregate. */
  async record(attempt: RevocationAttempt, err: GtrException, now = Date.now()): Promise<void> {
    const connection = attempt.connection?.name ?? null;
    const authenticated = attempt.verified;
    const key = `${authenticated ? 'verified' : 'unverified'}:${connection ?? ''}`;
    let budget = this.budgets.get(key);
    if (!budget) {
      const { perSecond } = this.config.rejectionLog;
      budget = new TokenBucket(perSecond, perSecond, now);
      this.budgets.set(key, budget);
    }
    if (budget.take(now) === 0) {
      await this.write([single(attempt, err)], 'a rejected revocation request');
      return;
    }
    let aggregate = this.pending.get(key);
    if (!aggregate) {
      aggregate = { connection, authenticated, count: 0, byStatus: {}, sample: [], from: new Date(now).toISOString() };
      this.pending.set(key, aggregate);
    }
    aggregate.count += 1;
    aggregate.byStatus[err.status] = (aggregate.byStatus[err.status] ?? 0) + 1;
    if (aggregate.sample.length < SAMPLE_SIZE) aggregate.sample.push(sampleOf(attempt, err, now));
  }

  /** Writes what was counted since the last flush, one event per connection, in one statement. */
  flush(now = Date.now()): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = [...this.pending.values()];
      this.pending = new Map();
      const to = new Date(now).toISOString();
      await this.write(
        batch.map((a) => aggregated(a, to)),
        `${batch.reduce((n, a) => n + a.count, 0)} counted rejections of revocation requests`,
      );
    });
    return this.flushing;
  }

  /** Best effort: a log that cannot be written never turns a 4xx into a 5xx (the app log says so). */
  private async write(events: LogEventInput[], what: string): Promise<void> {
    try {
      await this.logs.recordAlone(events);
      this.relay.kick();
    } catch (e) {
      this.log.warn(`could not log ${what}: ${(e as Error).message}`);
    }
  }
}

function single(attempt: RevocationAttempt, err: GtrException): LogEventInput {
  return {
    type: 'universal_logout_failed',
    description: callerText(err.description, 1024) ?? '',
    connection: callerText(attempt.connectionName, 128),
    connection_id: attempt.connection?.id ?? null,
    ip: attempt.origin.ip ?? null,
    user_agent: callerText(attempt.origin.user_agent, 256),
    hostname: callerText(attempt.origin.hostname, 256),
    details: {
      error: err.error,
      error_description: callerText(err.description, 1024),
      response: { statusCode: err.status },
    },
  };
}

function sampleOf(attempt: RevocationAttempt, err: GtrException, now: number): Record<string, unknown> {
  return {
    date: new Date(now).toISOString(),
    status: err.status,
    error: err.error,
    error_description: callerText(err.description, 256),
    connection: callerText(attempt.connectionName, 128),
    ip: attempt.origin.ip ?? null,
    user_agent: callerText(attempt.origin.user_agent, 256),
  };
}

function aggregated(a: Aggregate, to: string): LogEventInput {
  return {
    type: 'universal_logout_failed',
    description: `${a.count} rejected revocation request(s) beyond the log budget, counted`,
    connection: a.connection,
    details: {
      aggregated: { count: a.count, by_status: a.byStatus, sample: a.sample, from: a.from, to, authenticated: a.authenticated },
    },
  };
}

/**
 * Text a caller chose, made storable: control characters (PostgreSQL refuses NUL in text and jsonb)
 * and lone surrogates replaced, and cut to `max` characters.
 */
function callerText(text: string | null | undefined, max: number): string | null {
  return capText(text?.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd'), max);
}
