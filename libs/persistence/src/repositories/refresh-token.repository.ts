import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { orderColumns, pruneRevokedStatement, rowsToRevoke, type RevocationOrder } from './revocation-orders';
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
      `WITH ${rowsToRevoke('refresh_tokens')}
       UPDATE refresh_tokens t SET revoked_at = now(), revoked_by = c.request_id
       FROM chosen c WHERE t.id = c.id AND t.revoked_at IS NULL
       RETURNING c.request_id, t.id, t.user_id, t.client_id, t.session_id`,
      columns,
    );
    return rows
      .map((r) => ({ requestId: r.request_id, id: r.id, userId: r.user_id, clientId: r.client_id, sessionId: r.session_id }))
      .sort((a, b) => (a.requestId === b.requestId ? compare(a.id, b.id) : compare(a.requestId, b.requestId)));
  }

  /** Retention: deletes up to `limit` refresh tokens revoked before `before`, oldest first; returns how many. */
  async pruneRevokedBefore(manager: EntityManager, before: Date, limit: number): Promise<number> {
    const [row] = await sqlRows<{ n: number }>(
      manager,
      pruneRevokedStatement('refresh_tokens'),
      [before, limit],
    );
    return row.n;
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
