import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { LogEventInput, LogoutRequested } from '@ulo/contracts';
import { LockedRequest, LogoutRequestRepository, LogoutStep } from '@ulo/persistence';
import { LogEventRecorder } from './log-event.recorder';
import { OutboxRelay } from './outbox-relay';
import { PoisonMessageException } from './poison-message.exception';

/** What one step of a logout request changed, and the log events that report it. */
export interface StepWork {
  count: number;
  events?: LogEventInput[];
}

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

/**
 * SPEC §3, §5: `universal_logout_succeeded` once per accepted Global Token Revocation request,
 * written by whichever step completes it.
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

/**
 * One consumer's step of a batch of logout requests, in one transaction with their bookkeeping:
 * lock the requests (in id order), skip those whose step is recorded (a redelivery changes nothing
 * twice, SPEC §3), do the work for the rest in one go, record the step of each, write the log
 * events and, for each request this step completes, the `universal_logout_succeeded` event; after
 * the commit, publish what the step queued.
 */
@Injectable()
export class LogoutStepRunner {
  private readonly log = new Logger(LogoutStepRunner.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly requests: LogoutRequestRepository,
    private readonly logs: LogEventRecorder,
    private readonly relay: OutboxRelay,
  ) {}

  async runBatch(
    batch: LogoutRequested[],
    step: LogoutStep,
    heartbeat: () => Promise<void>,
    work: (tx: EntityManager, pending: LockedRequest[]) => Promise<Map<string, StepWork>>,
  ): Promise<StepOutcome> {
    const ids = [...new Set(batch.map((r) => r.requestId))].sort();
    const outcome = await this.dataSource.transaction(async (tx) => {
      const locked = await this.requests.lock(tx, ids);
      const found = new Set(locked.map((r) => r.id));
      const pending = locked.filter((r) => !isDone(r, step));
      const done = pending.length > 0 ? await work(tx, pending) : new Map<string, StepWork>();
      await heartbeat();
      const events: LogEventInput[] = [];
      const counts = new Map<string, number>();
      const recorded = pending.map((request) => {
        const { count, events: own = [] } = done.get(request.id) ?? { count: 0 };
        const other = otherStepOf(request, step);
        events.push(...own);
        if (other !== null && request.initiator === 'idp-logout') {
          events.push(step === 'sessions' ? succeeded(request, count, other) : succeeded(request, other, count));
        }
        counts.set(request.id, count);
        return { requestId: request.id, count, completes: other !== null };
      });
      await this.requests.recordStep(tx, step, recorded);
      await this.logs.record(tx, events);
      return { counts, unknown: ids.filter((id) => !found.has(id)) };
    });
    if (outcome.counts.size > 0) this.relay.kick();
    const total = [...outcome.counts.values()].reduce((a, b) => a + b, 0);
    const redelivered = ids.length - outcome.counts.size - outcome.unknown.length;
    this.log.log(
      `${ids.length} request(s): ${WORDS[step].did(total)} for ${outcome.counts.size}` +
        (redelivered ? `; ${redelivered} redelivered (${WORDS[step].done})` : '') +
        (outcome.unknown.length ? `; ${outcome.unknown.length} unknown` : ''),
    );
    for (const [id, count] of outcome.counts) this.log.debug(`request ${id}: ${WORDS[step].did(count)}`);
    return outcome;
  }

  /** The one-request case: its count, 0 for a redelivery; an unknown request is poison. */
  async run(
    request: LogoutRequested,
    step: LogoutStep,
    heartbeat: () => Promise<void>,
    work: (tx: EntityManager, locked: LockedRequest) => Promise<StepWork>,
  ): Promise<number> {
    const outcome = await this.runBatch([request], step, heartbeat, async (tx, [locked]) => new Map([[locked.id, await work(tx, locked)]]));
    if (outcome.unknown.length) throw new PoisonMessageException(`unknown logout request ${request.requestId}`);
    return outcome.counts.get(request.requestId) ?? 0;
  }
}
