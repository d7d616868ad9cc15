import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { orderColumns, pruneRevokedStatement, rowsToRevoke, type RevocationOrder } from './revocation-orders';
import { sqlRows } from './sql';

export interface TerminatedSession {
  requestId: string;
  sessionId: string;
  userId: string;
  clientIds: string[];
}

@Injectable()
export class SessionRepository {
  /**
   * For a batch of logout requests, in one statement: terminates the active sessions in each
   * request's scope that existed when it was accepted (a login after the logout survives it), and
   * returns them with the clients that took part, by request. A session two requests cover goes to
   * the earlier one. Already-terminated sessions are left alone, so a redelivered request
   * terminates nothing twice. Sessions are locked in id order, so concurrent batches cannot deadlock.
   */
  async terminate(tx: EntityManager, orders: RevocationOrder[]): Promise<TerminatedSession[]> {
    const columns = orderColumns(orders);
    if (columns[0].length === 0) return [];
    const rows = await sqlRows<{ request_id: string; id: string; user_id: string; client_ids: string[] }>(
      tx,
      `WITH ${rowsToRevoke('sessions')},
       terminated AS (
         UPDATE sessions s SET revoked_at = now(), revoked_by = c.request_id
         FROM chosen c WHERE s.id = c.id AND s.revoked_at IS NULL
         RETURNING s.id, s.user_id, c.request_id
       )
       SELECT t.request_id, t.id, t.user_id,
              coalesce(array_agg(sc.client_id ORDER BY sc.client_id) FILTER (WHERE sc.client_id IS NOT NULL), '{}') AS client_ids
       FROM terminated t LEFT JOIN session_clients sc ON sc.session_id = t.id
       GROUP BY t.request_id, t.id, t.user_id ORDER BY t.request_id, t.id`,
      columns,
    );
    return rows.map((s) => ({ requestId: s.request_id, sessionId: s.id, userId: s.user_id, clientIds: s.client_ids }));
  }

  /**
   * Retention: deletes up to `limit` sessions revoked before `before`, oldest first (their
   * session_clients go with them, ON DELETE CASCADE); returns how many.
   */
  async pruneRevokedBefore(manager: EntityManager, before: Date, limit: number): Promise<number> {
    const [row] = await sqlRows<{ n: number }>(
      manager,
      pruneRevokedStatement('sessions'),
      [before, limit],
    );
    return row.n;
  }
}
