import { Injectable } from '@nestjs/common';
import { LogoutRequested } from '@ulo/contracts';
import { LogoutStepRunner, StepOutcome, StepWork, StepWorkOf } from '@ulo/messaging';
import { RefreshTokenRepository } from '@ulo/persistence';

/**
 * SPEC §3 "Refresh tokens": revokes every refresh token in the scope of each request of a batch,
 * online and offline, with one `srrt` log event per token, in one transaction with the requests'
 * bookkeeping.
 */
@Injectable()
export class RevokeRefreshTokens {
  constructor(
    private readonly steps: LogoutStepRunner,
    private readonly refreshTokens: RefreshTokenRepository,
  ) {}

  execute(batch: LogoutRequested[], heartbeat: () => Promise<void>): Promise<StepOutcome> {
    return this.steps.runBatch(batch, 'refresh_tokens', heartbeat, this.revoke);
  }

  /** The step's work, one function for every batch (so that concurrent batches share a commit). */
  private readonly revoke: StepWorkOf = async (tx, pending) => {
    const revoked = await this.refreshTokens.revoke(
      tx,
      pending.map((p) => ({ requestId: p.id, userIds: p.userIds, scope: p.request.refreshTokens })),
    );
    const work = new Map<string, StepWork>(pending.map((p) => [p.id, { count: 0, events: [] }]));
    const requestOf = new Map(pending.map((p) => [p.id, p]));
    for (const t of revoked) {
      const request = requestOf.get(t.requestId)!;
      const entry = work.get(t.requestId)!;
      entry.count++;
      entry.events!.push({
        type: 'srrt',
        description: 'Refresh token revoked',
        user_id: t.userId,
        client_id: t.clientId,
        connection: request.connectionName,
        connection_id: request.connectionId,
        details: { credential_id: t.id, session_id: t.sessionId, request_id: t.requestId, initiator: request.initiator },
      });
    }
    return work;
  };
}
