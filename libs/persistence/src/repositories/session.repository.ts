import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { RevocationScope } from '@ulo/contracts';

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
    manager: EntityManager,
    userIds: string[],
    scope: RevocationScope,
    requestId: string,
  ): Promise<TerminatedSession[]> {
    if (scope.mode === 'none') return [];
    const rows: { id: string; user_id: string }[] =
      scope.mode === 'all'
        ? await manager.query(
            `UPDATE sessions SET revoked_at = now(), revoked_by = $2
             WHERE user_id = ANY($1::text[]) AND revoked_at IS NULL
               AND created_at <= (SELECT created_at FROM logout_requests WHERE id = $2) RETURNING id, user_id`,
            [userIds, requestId],
          )
        : await manager.query(
            `UPDATE sessions SET revoked_at = now(), revoked_by = $3
             WHERE id = $1 AND user_id = ANY($2::text[]) AND revoked_at IS NULL RETURNING id, user_id`,
            [scope.id, userIds, requestId],
          );
    // UPDATE ... RETURNING yields [rows, count] through TypeORM's postgres driver.
    const terminated = normalise(rows);
    if (terminated.length === 0) return [];
    const clients: { session_id: string; client_id: string }[] = await manager.query(
      `SELECT session_id, client_id FROM session_clients WHERE session_id = ANY($1::text[]) ORDER BY session_id, client_id`,
      [terminated.map((s) => s.id)],
    );
    const bySession = new Map<string, string[]>();
    for (const c of clients) bySession.set(c.session_id, [...(bySession.get(c.session_id) ?? []), c.client_id]);
    return terminated
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((s) => ({ sessionId: s.id, userId: s.user_id, clientIds: bySession.get(s.id) ?? [] }));
  }
}

export function normalise<T>(result: T[] | [T[], number]): T[] {
  return Array.isArray(result[0]) && typeof result[1] === 'number' ? (result[0] as T[]) : (result as T[]);
}
