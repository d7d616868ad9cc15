import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { orderColumns, type RevocationOrder } from './revocation-orders';
import { sqlRows } from './sql';

export interface RevokedRefreshToken {
  requestId: string;
  id: string;
  userId: string;
  clientId: string;
  sessionId: string | null;
}

@Injectable()
export class RefreshTokenRepository {
  /**
   * For a batch of logout requests, in one statement: revokes the active refresh tokens in each
   * request's scope (online and offline, issued up to its acceptance), and returns them by request.
   * A token two requests cover goes to the earlier one; already-revoked ones stay as they are.
   * Tokens are locked in id order, so concurrent batches cannot deadlock.
   */
  async revoke(tx: EntityManager, orders: RevocationOrder[]): Promise<RevokedRefreshToken[]> {
    const columns = orderColumns(orders);
    if (columns[0].length === 0) return [];
    const rows = await sqlRows<{ request_id: string; id: string; user_id: string; client_id: string; session_id: string | null }>(
      tx,
      `WITH req AS (
         SELECT o.request_id, o.user_id, o.mode, o.one_id, lr.created_at
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS o (request_id, user_id, mode, one_id)
         JOIN logout_requests lr ON lr.id = o.request_id
       ),
       covered AS (
         SELECT t.id, req.request_id, req.created_at AS accepted_at
         FROM req JOIN refresh_tokens t ON t.user_id = req.user_id AND t.revoked_at IS NULL
          AND ((req.mode = 'all' AND t.created_at <= req.created_at) OR (req.mode = 'one' AND t.id = req.one_id))
       ),
       locked AS (
         SELECT t.id FROM refresh_tokens t WHERE t.id IN (SELECT id FROM covered) ORDER BY t.id FOR UPDATE
       ),
       chosen AS (
         SELECT DISTINCT ON (c.id) c.id, c.request_id FROM covered c JOIN locked l ON l.id = c.id
         ORDER BY c.id, c.accepted_at, c.request_id
       )
       UPDATE refresh_tokens t SET revoked_at = now(), revoked_by = c.request_id
       FROM chosen c WHERE t.id = c.id AND t.revoked_at IS NULL
       RETURNING c.request_id, t.id, t.user_id, t.client_id, t.session_id`,
      columns,
    );
    return rows
      .map((r) => ({ requestId: r.request_id, id: r.id, userId: r.user_id, clientId: r.client_id, sessionId: r.session_id }))
      .sort((a, b) => (a.requestId === b.requestId ? compare(a.id, b.id) : compare(a.requestId, b.requestId)));
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
