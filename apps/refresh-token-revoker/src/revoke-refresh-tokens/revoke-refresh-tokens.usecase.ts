import { Injectable } from '@nestjs/common';
import { LogoutRequested } from '@ulo/contracts';
import { LogoutStepRunner } from '@ulo/messaging';
import { RefreshTokenRepository } from '@ulo/persistence';

/**
 * SPEC §3 "Refresh tokens": revokes every refresh token in the request's scope, online and
 * offline, with one `srrt` log event per token, in one transaction with the request's bookkeeping.
 */
@Injectable()
export class RevokeRefreshTokens {
  constructor(
    private readonly steps: LogoutStepRunner,
    private readonly refreshTokens: RefreshTokenRepository,
  ) {}

  execute(request: LogoutRequested, heartbeat: () => Promise<void>): Promise<number> {
    return this.steps.run(request, 'refresh_tokens', heartbeat, async (tx, locked) => {
      const revoked = await this.refreshTokens.revoke(tx, request.userIds, request.refreshTokens, request.requestId);
      return {
        count: revoked.length,
        events: revoked.map((t) => ({
          type: 'srrt' as const,
          description: 'Refresh token revoked',
          user_id: t.userId,
          client_id: t.clientId,
          connection: locked.connectionName,
          connection_id: locked.connectionId,
          details: { credential_id: t.id, session_id: t.sessionId, request_id: request.requestId, initiator: request.initiator },
        })),
      };
    });
  }
}
