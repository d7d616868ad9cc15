import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { GatewayConfig } from '@ulo/config';
import type { LogEventInput, LogEventType } from '@ulo/contracts';
import { LogEventRecorder, OutboxRelay, capText } from '@ulo/messaging';
import type { RequestOrigin } from '@ulo/persistence';
import { TokenBucket } from './token-bucket';

/** Rejections kept as examples in an aggregated event. */
const SAMPLE_SIZE = 5;
/** Budgets kept: two per connection that rejections named (authenticated or not), and two for unknown names. */
const MAX_BUDGETS = 20_000;

/** One rejected request of a public endpoint, as its log sees it. */
export interface Rejection {
  /** The connection name in the URL, as sent. */
  connectionName: string;
  /** The connection it names, once found; rejections of names of no connection share one budget. */
  connection: { id: string; name: string } | null;
  /** The caller proved who it is (a verified token, the push Authorization): a budget of its own. */
  authenticated: boolean;
  origin: RequestOrigin;
  status: number;
  /** The error code the answer carried. */
  error: string;
  description: string;
}

/** What one endpoint's rejections are logged as. */
export interface RejectionKind<R extends Rejection> {
  type: LogEventType;
  /** What was rejected, in the singular ("revocation request"): for descriptions and our own log. */
  noun: string;
  /** The event of one rejection, written within the budget. */
  single(rejection: R): LogEventInput;
}

interface Aggregate {
  connection: string | null;
  authenticated: boolean;
  count: number;
  byStatus: Record<string, number>;
  sample: Record<string, unknown>[];
  from: string;
}

/**
 * SPEC §2 "Hostile traffic", §5, §9: every rejected request of a public endpoint is logged, but a
 * rejection costs a synchronous database write only within a budget per connection per second
 * (GTR_REJECTION_LOG_PER_SECOND; names of no connection share one budget). Beyond it rejections are
 * counted in memory and written every GTR_REJECTION_LOG_INTERVAL_SECONDS as one event per
 * connection, with `details.aggregated`: `{count, by_status, sample, from, to, authenticated}`.
 *
 * Rejections of authenticated requests (an unknown user, a replay, a rate limit) have a budget of
 * their own: junk cannot push a caller's own failures out of the log. Each endpoint keeps its own
 * budgets (one instance each).
 */
export class RejectionBudget<R extends Rejection> {
  private readonly log = new Logger(RejectionBudget.name);
  private readonly budgets = new LRUCache<string, TokenBucket>({ max: MAX_BUDGETS });
  /** Keyed like the budgets; only connections that exist and one entry for unknown names: bounded. */
  private pending = new Map<string, Aggregate>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: GatewayConfig['rejectionLog'],
    private readonly logs: LogEventRecorder,
    private readonly relay: OutboxRelay,
    private readonly kind: RejectionKind<R>,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.config.intervalSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  /** Logs `rejection`: written now within the budget, else counted for the next aggregate. */
  async record(rejection: R, now = Date.now()): Promise<void> {
    const connection = rejection.connection?.name ?? null;
    const { authenticated } = rejection;
    const key = `${authenticated ? 'verified' : 'unverified'}:${connection ?? ''}`;
    let budget = this.budgets.get(key);
    if (!budget) {
      const { perSecond } = this.config;
      budget = new TokenBucket(perSecond, perSecond, now);
      this.budgets.set(key, budget);
    }
    if (budget.take(now) === 0) {
      await this.write([this.kind.single(rejection)], `a rejected ${this.kind.noun}`);
      return;
    }
    let aggregate = this.pending.get(key);
    if (!aggregate) {
      aggregate = { connection, authenticated, count: 0, byStatus: {}, sample: [], from: new Date(now).toISOString() };
      this.pending.set(key, aggregate);
    }
    aggregate.count += 1;
    aggregate.byStatus[rejection.status] = (aggregate.byStatus[rejection.status] ?? 0) + 1;
    if (aggregate.sample.length < SAMPLE_SIZE) aggregate.sample.push(sampleOf(rejection, now));
  }

  /** Writes what was counted since the last flush, one event per connection, in one statement. */
  flush(now = Date.now()): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = [...this.pending.values()];
      this.pending = new Map();
      const to = new Date(now).toISOString();
      await this.write(
        batch.map((a) => this.aggregated(a, to)),
        `${batch.reduce((n, a) => n + a.count, 0)} counted rejections of ${this.kind.noun}s`,
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

  private aggregated(a: Aggregate, to: string): LogEventInput {
    return {
      type: this.kind.type,
      description: `${a.count} rejected ${this.kind.noun}(s) beyond the log budget, counted`,
      connection: a.connection,
      details: {
        aggregated: { count: a.count, by_status: a.byStatus, sample: a.sample, from: a.from, to, authenticated: a.authenticated },
      },
    };
  }
}

function sampleOf(r: Rejection, now: number): Record<string, unknown> {
  return {
    date: new Date(now).toISOString(),
    status: r.status,
    error: r.error,
    error_description: callerText(r.description, 256),
    connection: callerText(r.connectionName, 128),
    ip: r.origin.ip ?? null,
    user_agent: callerText(r.origin.user_agent, 256),
  };
}

/**
 * The members of a rejection's log event that say where it came from (the connection named, the
 * caller's address, User-Agent and Host), each a caller's text capped: the same for every endpoint.
 */
export function rejectionSource(r: Rejection): Pick<LogEventInput, 'connection' | 'connection_id' | 'ip' | 'user_agent' | 'hostname'> {
  return {
    connection: callerText(r.connectionName, 128),
    connection_id: r.connection?.id ?? null,
    ip: r.origin.ip ?? null,
    user_agent: callerText(r.origin.user_agent, 256),
    hostname: callerText(r.origin.hostname, 256),
  };
}

/**
 * Text a caller chose, made storable: control characters (PostgreSQL refuses NUL in text and jsonb)
 * and lone surrogates replaced, and cut to `max` characters.
 */
export function callerText(text: string | null | undefined, max: number): string | null {
  return capText(text?.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd'), max);
}
