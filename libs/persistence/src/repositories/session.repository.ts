import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { orderColumns, type RevocationOrder } from './revocation-orders';
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
      `WITH req AS (
         SELECT o.request_id, o.user_id, o.mode, o.one_id, lr.created_at
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS o (request_id, user_id, mode, one_id)
         JOIN logout_requests lr ON lr.id = o.request_id
       ),
       covered AS (
         SELECT s.id, req.request_id, req.created_at AS accepted_at
         FROM req JOIN sessions s ON s.user_id = req.user_id AND s.revoked_at IS NULL
          AND ((req.mode = 'all' AND s.created_at <= req.created_at) OR (req.mode = 'one' AND s.id = req.one_id))
       ),
       locked AS (
         SELECT s.id FROM sessions s WHERE s.id IN (SELECT id FROM covered) ORDER BY s.id FOR UPDATE
       ),
       chosen AS (
         SELECT DISTINCT ON (c.id) c.id, c.request_id FROM covered c JOIN locked l ON l.id = c.id
         ORDER BY c.id, c.accepted_at, c.request_id
       ),
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
}
