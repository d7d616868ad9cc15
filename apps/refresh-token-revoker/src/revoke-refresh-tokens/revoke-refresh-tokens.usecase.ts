import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LogEventInput, LogoutRequested } from '@ulo/contracts';
import { LogEventRecorder, OutboxRelay, PoisonMessageException } from '@ulo/messaging';
import { LogoutRequestRepository, RefreshTokenRepository } from '@ulo/persistence';

/**
 * SPEC §3 "Refresh tokens": revokes every refresh token in the request's scope, online and
 * offline, with one `srrt` log event per token, in one transaction with the request's bookkeeping.
 */
@Injectable()
export class RevokeRefreshTokens {
  private readonly log = new Logger(RevokeRefreshTokens.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly requests: LogoutRequestRepository,
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly logs: LogEventRecorder,
    private readonly relay: OutboxRelay,
  ) {}

  async execute(request: LogoutRequested, heartbeat: () => Promise<void> = () => Promise.resolve()): Promise<number> {
    const count = await this.dataSource.transaction(async (tx) => {
      const locked = await this.requests.lock(tx, request.requestId);
      if (!locked) throw new PoisonMessageException(`unknown logout request ${request.requestId}`);
      if (this.requests.isDone(locked, 'refresh_tokens')) return null;
      const revoked = await this.refreshTokens.revoke(tx, request.userIds, request.refreshTokens, request.requestId);
      await heartbeat();
      const events: LogEventInput[] = revoked.map((t) => ({
        type: 'srrt',
        description: 'Refresh token revoked',
        user_id: t.userId,
        client_id: t.clientId,
        connection: locked.connection_name,
        connection_id: locked.connection_id,
        details: { credential_id: t.id, session_id: t.sessionId, request_id: request.requestId, initiator: request.initiator },
      }));
      const outcome = await this.requests.recordStep(tx, locked, 'refresh_tokens', revoked.length);
      if (outcome.succeeded) events.push(outcome.succeeded);
      if (events.length) await this.logs.record(tx, events);
      return revoked.length;
    });
    if (count === null) {
      this.log.log(`request ${request.requestId}: refresh tokens already revoked (redelivery)`);
      return 0;
    }
    this.relay.kick();
    this.log.log(`request ${request.requestId}: revoked ${count} refresh token(s)`);
    return count;
  }
}
