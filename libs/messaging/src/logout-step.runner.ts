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

/**
 * One consumer's step of a logout request, in one transaction with the request's bookkeeping:
 * lock the request, skip a step already recorded (a redelivery changes nothing twice, SPEC §3),
 * do the work, record the step, write its log events and, when this step completes the request,
 * the `universal_logout_succeeded` event; after the commit, publish what the step queued.
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

  /** The step's count; 0 for a redelivery. */
  async run(
    request: LogoutRequested,
    step: LogoutStep,
    heartbeat: () => Promise<void>,
    work: (tx: EntityManager, locked: LockedRequest) => Promise<StepWork>,
  ): Promise<number> {
    const count = await this.dataSource.transaction(async (tx) => {
      const locked = await this.requests.lock(tx, request.requestId);
      if (!locked) throw new PoisonMessageException(`unknown logout request ${request.requestId}`);
      if (isDone(locked, step)) return null;
      const done = await work(tx, locked);
      await heartbeat();
      const other = otherStepOf(locked, step);
      await this.requests.recordStep(tx, locked.id, step, done.count, other !== null);
      const events = [...(done.events ?? [])];
      if (other !== null && locked.initiator === 'idp-logout') {
        events.push(step === 'sessions' ? succeeded(locked, done.count, other) : succeeded(locked, other, done.count));
      }
      await this.logs.record(tx, events);
      return done.count;
    });
    if (count === null) {
      this.log.log(`request ${request.requestId}: ${WORDS[step].done} (redelivery)`);
      return 0;
    }
    this.relay.kick();
    this.log.log(`request ${request.requestId}: ${WORDS[step].did(count)}`);
    return count;
  }
}
