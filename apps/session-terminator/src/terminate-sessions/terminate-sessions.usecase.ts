import { Injectable } from '@nestjs/common';
import { LogoutRequested, SESSIONS_PER_EVENT, Topics } from '@ulo/contracts';
import { LogoutStepRunner, OutboxWriter } from '@ulo/messaging';
import { SessionRepository } from '@ulo/persistence';

/**
 * SPEC §3 "Sessions": terminates every active session in the request's scope and announces them
 * (with the clients that took part) for back-channel logout, in one transaction with the request's
 * bookkeeping, so a redelivery changes nothing twice.
 */
@Injectable()
export class TerminateSessions {
  constructor(
    private readonly steps: LogoutStepRunner,
    private readonly sessions: SessionRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  execute(request: LogoutRequested, heartbeat: () => Promise<void>): Promise<number> {
    return this.steps.run(request, 'sessions', heartbeat, async (tx) => {
      const terminated = await this.sessions.terminate(tx, request.userIds, request.sessions, request.requestId);
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
      await this.outbox.write(tx, rows);
      return { count: terminated.length };
    });
  }
}
