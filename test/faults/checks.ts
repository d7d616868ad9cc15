import { decodeJwt } from 'jose';
import type { Pool } from 'pg';
import type { RpReceiver } from '@ulo/testing';
import type { SeededUser } from './tenant';

/** What the receiver got, by session: every logout token decoded (sid, sub). */
export interface Deliveries {
  tokens: number;
  bySid: Map<string, number>;
  /** When each session's first logout token arrived (epoch ms). */
  firstBySid: Map<string, number>;
  subs: Set<string>;
  undecodable: number;
}

export function deliveries(receiver: RpReceiver): Deliveries {
  const bySid = new Map<string, number>();
  const firstBySid = new Map<string, number>();
  const subs = new Set<string>();
  let undecodable = 0;
  for (const r of receiver.received) {
    try {
      const claims = decodeJwt(r.logoutToken);
      if (typeof claims.sid === 'string') {
        bySid.set(claims.sid, (bySid.get(claims.sid) ?? 0) + 1);
        if (!firstBySid.has(claims.sid)) firstBySid.set(claims.sid, r.at);
      }
      if (typeof claims.sub === 'string') subs.add(claims.sub);
    } catch {
      undecodable++;
    }
  }
  return { tokens: receiver.received.length, bySid, firstBySid, subs, undecodable };
}

/** The database's view of a group of users: live credentials, logout requests, success events. */
export interface GroupState {
  liveSessions: string[];
  liveRefreshTokens: string[];
  /** Logout request id -> the user it names (the first of user_ids) and whether it completed. */
  requests: Map<string, { userId: string; completed: boolean }>;
  /** `universal_logout_succeeded` events, by the request id in their details. */
  successByRequest: Map<string, number>;
  /** The same events, by user. */
  successByUser: Map<string, number>;
  /** When the last session and refresh token were revoked and the last request completed (epoch ms; null: none yet). */
  lastSessionRevokedAt: number | null;
  lastTokenRevokedAt: number | null;
  lastCompletedAt: number | null;
}

export async function groupState(db: Pool, users: SeededUser[]): Promise<GroupState> {
  const ids = users.map((u) => u.userId);
  const [sessions, tokens, requests, events, last] = await Promise.all([
    db.query<{ id: string }>(`SELECT id FROM sessions WHERE user_id = ANY($1::text[]) AND revoked_at IS NULL`, [ids]),
    db.query<{ id: string }>(`SELECT id FROM refresh_tokens WHERE user_id = ANY($1::text[]) AND revoked_at IS NULL`, [ids]),
    db.query<{ id: string; user_id: string; completed: boolean }>(
      `SELECT id, user_ids[1] AS user_id, completed_at IS NOT NULL AS completed FROM logout_requests WHERE user_ids && $1::text[]`,
      [ids],
    ),
    db.query<{ request_id: string | null; user_id: string }>(
      `SELECT data->'details'->>'request_id' AS request_id, user_id FROM log_events
       WHERE type = 'universal_logout_succeeded' AND user_id = ANY($1::text[])`,
      [ids],
    ),
    db.query<{ sessions: number | null; tokens: number | null; completed: number | null }>(
      `SELECT (SELECT extract(epoch FROM max(revoked_at)) * 1000 FROM sessions WHERE user_id = ANY($1::text[]))::float8 AS sessions,
              (SELECT extract(epoch FROM max(revoked_at)) * 1000 FROM refresh_tokens WHERE user_id = ANY($1::text[]))::float8 AS tokens,
              (SELECT extract(epoch FROM max(completed_at)) * 1000 FROM logout_requests WHERE user_ids && $1::text[])::float8 AS completed`,
      [ids],
    ),
  ]);
  const successByRequest = new Map<string, number>();
  const successByUser = new Map<string, number>();
  for (const e of events.rows) {
    const key = e.request_id ?? '(no request_id)';
    successByRequest.set(key, (successByRequest.get(key) ?? 0) + 1);
    successByUser.set(e.user_id, (successByUser.get(e.user_id) ?? 0) + 1);
  }
  return {
    liveSessions: sessions.rows.map((r) => r.id),
    liveRefreshTokens: tokens.rows.map((r) => r.id),
    requests: new Map(requests.rows.map((r) => [r.id, { userId: r.user_id, completed: r.completed }])),
    successByRequest,
    successByUser,
    lastSessionRevokedAt: last.rows[0].sessions,
    lastTokenRevokedAt: last.rows[0].tokens,
    lastCompletedAt: last.rows[0].completed,
  };
}

/** Sessions of the group that no logout token named yet. */
export function undelivered(users: SeededUser[], got: Deliveries): string[] {
  return users.flatMap((u) => u.sessionIds).filter((sid) => !got.bySid.has(sid));
}

/** Every logout of the group is complete: each user has a request, nothing is live, every request is done and logged once, every session delivered. */
export function isComplete(users: SeededUser[], state: GroupState, got: Deliveries): boolean {
  const requests = [...state.requests.entries()];
  const requested = new Set(requests.map(([, r]) => r.userId));
  return (
    state.liveSessions.length === 0 &&
    state.liveRefreshTokens.length === 0 &&
    users.every((u) => requested.has(u.userId)) &&
    requests.every(([id, r]) => r.completed && state.successByRequest.get(id) === 1) &&
    undelivered(users, got).length === 0
  );
}

/** One line per assertion; the run fails when any fails. */
export class Verdicts {
  readonly lines: { ok: boolean; what: string; detail: string }[] = [];

  check(what: string, ok: boolean, detail = ''): void {
    this.lines.push({ ok, what, detail });
  }

  get failed(): number {
    return this.lines.filter((l) => !l.ok).length;
  }

  get passed(): number {
    return this.lines.length - this.failed;
  }
}

/** At most `n` items of a list, for a failure message. */
export function sample<T>(items: T[], n = 5): string {
  return items.length <= n ? items.map(String).join(', ') : `${items.slice(0, n).map(String).join(', ')} … (${items.length} in all)`;
}
