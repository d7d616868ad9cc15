import { Injectable, Logger } from '@nestjs/common';
import { Histogram, register } from 'prom-client';
import { DataSource, EntityManager } from 'typeorm';
import { IDENTITY_PROVIDER_INITIATORS, type Initiator, LogEventInput, LogoutRequested, MetricSeries } from '@ulo/contracts';
import { GroupCommit, LockedRequest, LogoutRequestRepository, LogoutStep, type OutboxRow } from '@ulo/persistence';
import { LogEventRecorder } from './log-event.recorder';
import { OutboxRelay } from './outbox-relay';
import { PoisonMessageException } from './poison-message.exception';

/** What one step of a logout request changed, the log events that report it and the events it announces. */
export interface StepWork {
  count: number;
  events?: LogEventInput[];
  /** Written to the outbox with the log events, in one statement. */
  announcements?: OutboxRow[];
}

const stepDuration = new Histogram({
  name: MetricSeries.logoutStepDuration.name,
  help: MetricSeries.logoutStepDuration.help,
  labelNames: MetricSeries.logoutStepDuration.labelNames,
  buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [register],
});

const WORDS: Readonly<Record<LogoutStep, { done: string; did: (n: number) => string }>> = {
  sessions: { done: 'sessions already terminated', did: (n) => `terminated ${n} session(s)` },
  refresh_tokens: { done: 'refresh tokens already revoked', did: (n) => `revoked ${n} refresh token(s)` },
};

/** What the other step of `request` recorded, or null while it has not run. */
function otherStepOf(request: LockedRequest, step: LogoutStep): number | null {
  return step === 'sessions' ? request.refreshTokensRevoked : request.sessionsRevoked;
}

function isDone(request: LockedRequest, step: LogoutStep): boolean {
  return (step === 'sessions' ? request.sessionsRevoked : request.refreshTokensRevoked) !== null;
}

const BY_AN_IDENTITY_PROVIDER: ReadonlySet<Initiator> = new Set(IDENTITY_PROVIDER_INITIATORS);

/**
 * SPEC §3, §5, §9: `universal_logout_succeeded` once per accepted request of an identity provider
 * (Global Token Revocation, a CAEP event), written by whichever step completes it.
 */
function succeeded(request: LockedRequest, sessions: number, refreshTokens: number): LogEventInput {
  return {
    type: 'universal_logout_succeeded',
    description: 'Universal Logout succeeded',
    connection: request.connectionName,
    connection_id: request.connectionId,
    user_id: request.userIds[0],
    ip: request.origin.ip ?? null,
    user_agent: request.origin.user_agent ?? null,
    hostname: request.origin.hostname ?? null,
    details: { request_id: request.id, user_ids: request.userIds, sessions_revoked: sessions, refresh_tokens_revoked: refreshTokens },
  };
}

/** What a batch of one step did. */
export interface StepOutcome {
  /** The count each request's step recorded now; absent for a request whose step was done already. */
  counts: Map<string, number>;
  /** Requests of the batch that do not exist: never to be handled. */
  unknown: string[];
}

/** The work of a step for the requests whose step is not done: its count and log events by request. */
export type StepWorkOf = (tx: EntityManager, pending: LockedRequest[]) => Promise<Map<string, StepWork>>;

interface Submission {
  ids: string[];
  heartbeat: () => Promise<void>;
}

/**
 * One consumer's step of logout requests, in one transaction with their bookkeeping: lock the
 * requests (in id order), skip those whose step is recorded (a redelivery changes nothing twice,
 * SPEC §3), do the work for the rest in one go, record the step of each, write the log events and,
 * for each request this step completes, the `universal_logout_succeeded` event; after the commit,
 * publish what the step queued.
 *
 * The batches of the partitions an instance handles at the same moment share that transaction (a
 * group commit): each partition still waits for the commit that holds its batch.
 */
@Injectable()
export class LogoutStepRunner {
  private readonly log = new Logger(LogoutStepRunner.name);
  /** One group commit per step and work: batches merge only with batches of the same step and work. */
  private readonly groups = new WeakMap<StepWorkOf, Map<LogoutStep, GroupCommit<Submission, StepOutcome>>>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly requests: LogoutRequestRepository,
    private readonly logs: LogEventRecorder,
    private readonly relay: OutboxRelay,
  ) {}

  /**
   * `work` is the step's: a use case passes the same function every time, so that the batches of
   * its partitions can share a commit.
   */
  runBatch(batch: LogoutRequested[], step: LogoutStep, heartbeat: () => Promise<void>, work: StepWorkOf): Promise<StepOutcome> {
    const ofWork = this.groups.get(work) ?? new Map<LogoutStep, GroupCommit<Submission, StepOutcome>>();
    this.groups.set(work, ofWork);
    let group = ofWork.get(step);
    if (!group) {
      group = new GroupCommit<Submission, StepOutcome>((items) => this.commit(step, items, work), 64);
      ofWork.set(step, group);
    }
    return group.submit({ ids: [...new Set(batch.map((r) => r.requestId))], heartbeat });
  }

  /** The one-request case: its count, 0 for a redelivery; an unknown request is poison. */
  async run(request: LogoutRequested, step: LogoutStep, heartbeat: () => Promise<void>, work: StepWorkOf): Promise<number> {
    const outcome = await this.runBatch([request], step, heartbeat, work);
    if (outcome.unknown.length) throw new PoisonMessageException(`unknown logout request ${request.requestId}`);
    return outcome.counts.get(request.requestId) ?? 0;
  }

  private async commit(step: LogoutStep, items: Submission[], work: StepWorkOf): Promise<StepOutcome[]> {
    const ids = [...new Set(items.flatMap((i) => i.ids))].sort();
    const endTimer = stepDuration.startTimer({ step });
    const { counts, found } = await this.dataSource.transaction(async (tx) => {
      const locked = await this.requests.lock(tx, ids);
      const pending = locked.filter((r) => !isDone(r, step));
      const done = pending.length > 0 ? await work(tx, pending) : new Map<string, StepWork>();
      // A heartbeat that reports a rebalance must not undo the others' work: the step is idempotent.
      await Promise.all(items.map((i) => i.heartbeat().catch(() => undefined)));
      const events: LogEventInput[] = [];
      const announcements: OutboxRow[] = [];
      const recorded = new Map<string, number>();
      const outcomes = pending.map((request) => {
        const { count, events: own = [], announcements: announced = [] } = done.get(request.id) ?? { count: 0 };
        const other = otherStepOf(request, step);
        events.push(...own);
        announcements.push(...announced);
        if (other !== null && BY_AN_IDENTITY_PROVIDER.has(request.initiator)) {
          events.push(step === 'sessions' ? succeeded(request, count, other) : succeeded(request, other, count));
        }
        recorded.set(request.id, count);
        return { requestId: request.id, count, completes: other !== null };
      });
      await this.requests.recordStep(tx, step, outcomes);
      await this.logs.record(tx, events, announcements);
      return { counts: recorded, found: new Set(locked.map((r) => r.id)) };
    });
    endTimer();
    if (counts.size > 0) this.relay.kick();
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const unknown = ids.filter((id) => !found.has(id));
    const redelivered = ids.length - counts.size - unknown.length;
    this.log.log(
      `${ids.length} request(s) in ${items.length} batch(es): ${WORDS[step].did(total)} for ${counts.size}` +
        (redelivered ? `; ${redelivered} redelivered (${WORDS[step].done})` : '') +
        (unknown.length ? `; ${unknown.length} unknown` : ''),
    );
    for (const [id, count] of counts) this.log.debug(`request ${id}: ${WORDS[step].did(count)}`);
    return items.map((item) => ({
      counts: new Map(item.ids.filter((id) => counts.has(id)).map((id) => [id, counts.get(id)!])),
      unknown: item.ids.filter((id) => !found.has(id)),
    }));
  }
}
