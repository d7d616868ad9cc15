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
