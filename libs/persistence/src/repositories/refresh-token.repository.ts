import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { RevocationScope } from '@ulo/contracts';
import { normalise } from './query-result';

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
    manager: EntityManager,
    userIds: string[],
    scope: RevocationScope,
    requestId: string,
  ): Promise<RevokedRefreshToken[]> {
    if (scope.mode === 'none') return [];
    const result =
      scope.mode === 'all'
        ? await manager.query(
            `UPDATE refresh_tokens SET revoked_at = now(), revoked_by = $2
             WHERE user_id = ANY($1::text[]) AND revoked_at IS NULL
               AND created_at <= (SELECT created_at FROM logout_requests WHERE id = $2) RETURNING id, user_id, client_id, session_id`,
            [userIds, requestId],
          )
        : await manager.query(
            `UPDATE refresh_tokens SET revoked_at = now(), revoked_by = $3
             WHERE id = $1 AND user_id = ANY($2::text[]) AND revoked_at IS NULL
             RETURNING id, user_id, client_id, session_id`,
            [scope.id, userIds, requestId],
          );
    const rows = normalise<{ id: string; user_id: string; client_id: string; session_id: string | null }>(result);
    return rows
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((r) => ({ id: r.id, userId: r.user_id, clientId: r.client_id, sessionId: r.session_id }));
  }
}
