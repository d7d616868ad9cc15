import { Injectable } from '@nestjs/common';
import { LogoutRequested, SESSIONS_PER_EVENT, Topics } from '@ulo/contracts';
import { LogoutStepRunner, OutboxWriter, StepOutcome, StepWork, StepWorkOf } from '@ulo/messaging';
import { SessionRepository } from '@ulo/persistence';

/**
 * SPEC §3 "Sessions": terminates every active session in the scope of each request of a batch and
 * announces them (with the clients that took part) for back-channel logout, in one transaction
 * with the requests' bookkeeping, so a redelivery changes nothing twice.
 */
@Injectable()
export class TerminateSessions {
  constructor(
    private readonly steps: LogoutStepRunner,
    private readonly sessions: SessionRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  execute(batch: LogoutRequested[], heartbeat: () => Promise<void>): Promise<StepOutcome> {
    return this.steps.runBatch(batch, 'sessions', heartbeat, this.terminate);
  }

  /** The step's work, one function for every batch (so that concurrent batches share a commit). */
  private readonly terminate: StepWorkOf = async (tx, pending) => {
    const terminated = await this.sessions.terminate(
      tx,
      pending.map((p) => ({ requestId: p.id, userIds: p.userIds, scope: p.request.sessions })),
    );
    const byRequest = groupBy(terminated, (s) => s.requestId);
    const work = new Map<string, StepWork>();
    for (const p of pending) {
      const sessions = (byRequest.get(p.id) ?? []).map(({ sessionId, userId, clientIds }) => ({ sessionId, userId, clientIds }));
      const announcements = [];
      // SPEC §4 fan-out in chunks: no message or in-memory batch grows with the user.
      for (let i = 0; i < sessions.length; i += SESSIONS_PER_EVENT) {
        const chunk = sessions.slice(i, i + SESSIONS_PER_EVENT);
        announcements.push(
          this.outbox.event(Topics.sessionsTerminated, chunk[0].userId, p.id, {
            requestId: p.id,
            initiator: p.initiator,
            chunk: i / SESSIONS_PER_EVENT,
            allSessions: p.request.sessions.mode === 'all',
            sessions: chunk,
          }),
        );
      }
      work.set(p.id, { count: sessions.length, announcements });
    }
    return work;
  };
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const list = groups.get(key(item));
    if (list) list.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}
