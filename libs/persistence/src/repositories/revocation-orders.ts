import type { RevocationScope } from '@ulo/contracts';

/** What one logout request revokes of one kind (sessions or refresh tokens). */
export interface RevocationOrder {
  requestId: string;
  userIds: string[];
  scope: RevocationScope;
}

/**
 * The orders as the columns of `unnest`: one row per (request, user), in request order; `none`
 * scopes drop out. The statements join them to `logout_requests` for each request's acceptance time.
 */
export function orderColumns(orders: RevocationOrder[]): [string[], string[], string[], (string | null)[]] {
  const requestIds: string[] = [];
  const userIds: string[] = [];
  const modes: string[] = [];
  const ids: (string | null)[] = [];
  for (const order of orders) {
    if (order.scope.mode === 'none') continue;
    for (const userId of order.userIds) {
      requestIds.push(order.requestId);
      userIds.push(userId);
      modes.push(order.scope.mode);
      ids.push(order.scope.mode === 'one' ? order.scope.id : null);
    }
  }
  return [requestIds, userIds, modes, ids];
}

/** The tables a logout revokes rows of: the same columns (id, user_id, created_at, revoked_at, revoked_by). */
export type RevocableTable = 'sessions' | 'refresh_tokens';

/**
 * The WITH list both revocations start with, over the orders of {@link orderColumns} as $1..$4: the
 * active rows in each request's scope that existed when it was accepted (a login after the logout
 * survives it), locked in id order (concurrent batches cannot deadlock), and for each the request
 * that revokes it (`chosen (id, request_id)`): a row two requests cover goes to the earlier one.
 */
export function rowsToRevoke(table: RevocableTable): string {
  return `req AS (
         SELECT o.request_id, o.user_id, o.mode, o.one_id, lr.created_at
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS o (request_id, user_id, mode, one_id)
         JOIN logout_requests lr ON lr.id = o.request_id
       ),
       covered AS (
         SELECT x.id, req.request_id, req.created_at AS accepted_at
         FROM req JOIN ${table} x ON x.user_id = req.user_id AND x.revoked_at IS NULL
          AND ((req.mode = 'all' AND x.created_at <= req.created_at) OR (req.mode = 'one' AND x.id = req.one_id))
       ),
       locked AS (
         SELECT x.id FROM ${table} x WHERE x.id IN (SELECT id FROM covered) ORDER BY x.id FOR UPDATE
       ),
       chosen AS (
         SELECT DISTINCT ON (c.id) c.id, c.request_id FROM covered c JOIN locked l ON l.id = c.id
         ORDER BY c.id, c.accepted_at, c.request_id
       )`;
}

/**
 * Retention: the statement that deletes up to $2 rows of `table` revoked before $1, oldest first,
 * through its index of revoked rows, skipping rows another prune holds; it returns `n`, how many.
 */
export function pruneRevokedStatement(table: RevocableTable): string {
  return `WITH old AS (
         SELECT id FROM ${table} WHERE revoked_at IS NOT NULL AND revoked_at < $1 ORDER BY revoked_at LIMIT $2 FOR UPDATE SKIP LOCKED),
       gone AS (DELETE FROM ${table} x USING old WHERE x.id = old.id RETURNING 1)
       SELECT count(*)::int AS n FROM gone`;
}
