import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { RevocationScope } from '@ulo/contracts';
import { sqlRows } from './sql';

export interface RevokedRefreshToken {
  id: string;
  userId: string;
  clientId: string;
  sessionId: string | null;
}

@Injectable()
export class RefreshTokenRepository {
  /** Revokes the active refresh tokens in scope (online and offline); already-revoked ones stay as they are. */
  async revoke(
    tx: EntityManager,
    userIds: string[],
    scope: RevocationScope,
    requestId: string,
  ): Promise<RevokedRefreshToken[]> {
    if (scope.mode === 'none') return [];
    const target =
      scope.mode === 'all'
        ? `user_id = ANY($1::text[]) AND created_at <= (SELECT created_at FROM logout_requests WHERE id = $2)`
        : `id = $3 AND user_id = ANY($1::text[])`;
    const rows = await sqlRows<{ id: string; user_id: string; client_id: string; session_id: string | null }>(
      tx,
      `WITH revoked AS (
         UPDATE refresh_tokens SET revoked_at = now(), revoked_by = $2
         WHERE ${target} AND revoked_at IS NULL RETURNING id, user_id, client_id, session_id
       )
       SELECT * FROM revoked ORDER BY id`,
      scope.mode === 'all' ? [userIds, requestId] : [userIds, requestId, scope.id],
    );
    return rows.map((r) => ({ id: r.id, userId: r.user_id, clientId: r.client_id, sessionId: r.session_id }));
  }
}
