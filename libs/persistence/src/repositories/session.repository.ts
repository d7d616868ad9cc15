import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { RevocationScope } from '@ulo/contracts';
import { sqlRows } from './sql';

export interface TerminatedSession {
  sessionId: string;
  userId: string;
  clientIds: string[];
}

@Injectable()
export class SessionRepository {
  /**
   * Terminates the active sessions in scope that existed when the request was accepted (a login
   * after the logout survives it) and returns them with the clients that took part.
   * Already-terminated sessions are left alone, so a redelivered request terminates nothing twice.
   */
  async terminate(
    tx: EntityManager,
    userIds: string[],
    scope: RevocationScope,
    requestId: string,
  ): Promise<TerminatedSession[]> {
    if (scope.mode === 'none') return [];
    const target =
      scope.mode === 'all'
        ? `user_id = ANY($1::text[]) AND created_at <= (SELECT created_at FROM logout_requests WHERE id = $2)`
        : `id = $3 AND user_id = ANY($1::text[])`;
    // One round trip: terminate, and return each session with the clients that took part in it.
    const rows = await sqlRows<{ id: string; user_id: string; client_ids: string[] }>(
      tx,
      `WITH terminated AS (
         UPDATE sessions SET revoked_at = now(), revoked_by = $2
         WHERE ${target} AND revoked_at IS NULL RETURNING id, user_id
       )
       SELECT t.id, t.user_id,
              coalesce(array_agg(sc.client_id ORDER BY sc.client_id) FILTER (WHERE sc.client_id IS NOT NULL), '{}') AS client_ids
       FROM terminated t LEFT JOIN session_clients sc ON sc.session_id = t.id
       GROUP BY t.id, t.user_id ORDER BY t.id`,
      scope.mode === 'all' ? [userIds, requestId] : [userIds, requestId, scope.id],
    );
    return rows.map((s) => ({ sessionId: s.id, userId: s.user_id, clientIds: s.client_ids }));
  }
}
