import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LogoutRequested, SESSIONS_PER_EVENT, Topics } from '@ulo/contracts';
import { LogEventRecorder, OutboxRelay, OutboxWriter, PoisonMessageException } from '@ulo/messaging';
import { LogoutRequestRepository, SessionRepository } from '@ulo/persistence';

/**
 * SPEC §3 "Sessions": terminates every active session in the request's scope and announces them
 * (with the clients that took part) for back-channel logout, in one transaction with the request's
 * bookkeeping, so a redelivery changes nothing twice.
 */
@Injectable()
export class TerminateSessions {
  private readonly log = new Logger(TerminateSessions.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly requests: LogoutRequestRepository,
    private readonly sessions: SessionRepository,
    private readonly outbox: OutboxWriter,
    private readonly logs: LogEventRecorder,
    private readonly relay: OutboxRelay,
  ) {}

  async execute(request: LogoutRequested, heartbeat: () => Promise<void> = () => Promise.resolve()): Promise<number> {
    const count = await this.dataSource.transaction(async (tx) => {
      const locked = await this.requests.lock(tx, request.requestId);
      if (!locked) throw new PoisonMessageException(`unknown logout request ${request.requestId}`);
      if (this.requests.isDone(locked, 'sessions')) return null;
      const terminated = await this.sessions.terminate(tx, request.userIds, request.sessions, request.requestId);
      await heartbeat();
      const rows = [];
      for (let i = 0; i < terminated.length; i += SESSIONS_PER_EVENT) {
        const chunk = terminated.slice(i, i + SESSIONS_PER_EVENT);
        rows.push(
          this.outbox.event(Topics.sessionsTerminated, chunk[0].userId, request.requestId, {
            requestId: request.requestId,
            initiator: request.initiator,
            chunk: i / SESSIONS_PER_EVENT,
            sessions: chunk,
          }),
        );
      }
      await this.outbox.insert(tx, rows);
      const outcome = await this.requests.recordStep(tx, locked, 'sessions', terminated.length);
      if (outcome.succeeded) await this.logs.record(tx, [outcome.succeeded]);
      return terminated.length;
    });
    if (count === null) {
      this.log.log(`request ${request.requestId}: sessions already terminated (redelivery)`);
      return 0;
    }
    this.relay.kick();
    this.log.log(`request ${request.requestId}: terminated ${count} session(s)`);
    return count;
  }
}
