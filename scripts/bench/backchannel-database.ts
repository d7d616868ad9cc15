import { Client } from 'pg';
import { sleep } from './processes';

/** One bench user: an identity at the bench connection and `sessions` sessions, each at every client. */
export interface BackchannelUser {
  tag: string;
  userId: string;
  providerUserId: string;
  sessionIds: string[];
}

export function backchannelUser(tag: string, sessions: number): BackchannelUser {
  return {
    tag,
    userId: `bench|bc-${tag}`,
    providerUserId: `00ubc${tag}`,
    sessionIds: Array.from({ length: sessions }, (_, i) => `bcs_${tag}_${String(i + 1).padStart(5, '0')}`),
  };
}

/**
 * Bulk inserts computed by PostgreSQL: the user, its identity, its sessions (generate_series) and one
 * session_clients row per session and client (a cross join), in one transaction.
 */
export async function seedBackchannelUser(
  db: Client,
  user: BackchannelUser,
  clientIds: string[],
  connection: { name: string; issuer: string },
): Promise<void> {
  await db.query('BEGIN');
  try {
    await db.query(`INSERT INTO users (user_id, email) VALUES ($1, $2)`, [user.userId, `${user.tag}@bench.example`]);
    await db.query(
      `INSERT INTO user_identities (user_id, connection_id, provider_user_id, issuer, email, email_normalized)
       SELECT $1, id, $3, $4, $5, lower($5) FROM connections WHERE name = $2`,
      [user.userId, connection.name, user.providerUserId, connection.issuer, `${user.tag}@bench.example`],
    );
    await db.query(
      `INSERT INTO sessions (id, user_id, expires_at)
       SELECT 'bcs_' || $2::text || '_' || lpad(g::text, 5, '0'), $1::text, now() + interval '1 day'
       FROM generate_series(1, $3::int) g`,
      [user.userId, user.tag, user.sessionIds.length],
    );
    await db.query(
      `INSERT INTO session_clients (session_id, client_id)
       SELECT s.id, c FROM sessions s CROSS JOIN unnest($2::text[]) AS c WHERE s.user_id = $1`,
      [user.userId, clientIds],
    );
    await db.query('COMMIT');
  } catch (err) {
    await db.query('ROLLBACK');
    throw err;
  }
}

/** What PostgreSQL recorded for one run, as epoch milliseconds where it is a time. */
export interface RunTimeline {
  requestId: string | null;
  requestCreatedMs: number | null;
  sessionsRevoked: number;
  lastSessionRevokedMs: number | null;
  deliveries: number;
  /** Of them, `sub`-only rows (no session: one token per user and client). */
  subOnly: number;
  firstPlannedMs: number | null;
  lastPlannedMs: number | null;
  lastSucceededMs: number | null;
  byStatus: Record<string, number>;
  /** Deliveries (of the healthy clients) that needed more than one attempt. */
  retriedHealthy: number;
  /** Per client of `watch`: status counts and attempts so far. */
  watched: { clientId: string; byStatus: Record<string, number>; attempts: number; lastError: string | null }[];
}

const msOf = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export async function runTimeline(db: Client, userId: string, healthyClients: string[], watch: string[]): Promise<RunTimeline> {
  const { rows: req } = await db.query(
    `SELECT id, (extract(epoch FROM created_at) * 1000)::float8 AS created_ms
     FROM logout_requests WHERE $1 = ANY(user_ids) ORDER BY created_at DESC LIMIT 1`,
    [userId],
  );
  const { rows: ses } = await db.query(
    `SELECT count(revoked_at)::int AS revoked, (extract(epoch FROM max(revoked_at)) * 1000)::float8 AS last_ms
     FROM sessions WHERE user_id = $1`,
    [userId],
  );
  const { rows: del } = await db.query(
    `SELECT count(*)::int AS n,
            (extract(epoch FROM min(created_at)) * 1000)::float8 AS first_ms,
            (extract(epoch FROM max(created_at)) * 1000)::float8 AS last_ms,
            (extract(epoch FROM max(updated_at) FILTER (WHERE status = 'succeeded')) * 1000)::float8 AS succeeded_ms,
            count(*) FILTER (WHERE attempts > 1 AND client_id = ANY($2::text[]))::int AS retried,
            count(*) FILTER (WHERE session_id IS NULL)::int AS sub_only
     FROM backchannel_deliveries WHERE user_id = $1`,
    [userId, healthyClients],
  );
  const { rows: statuses } = await db.query(
    `SELECT status, count(*)::int AS n FROM backchannel_deliveries WHERE user_id = $1 GROUP BY status ORDER BY status`,
    [userId],
  );
  const { rows: watched } = await db.query(
    `SELECT client_id, status, count(*)::int AS n, sum(attempts)::int AS attempts, max(last_error) AS last_error
     FROM backchannel_deliveries WHERE user_id = $1 AND client_id = ANY($2::text[]) GROUP BY client_id, status ORDER BY client_id, status`,
    [userId, watch],
  );
  const watchedOut = watch.map((clientId) => {
    const mine = watched.filter((w) => w.client_id === clientId);
    return {
      clientId,
      byStatus: Object.fromEntries(mine.map((w) => [w.status as string, w.n as number])),
      attempts: mine.reduce((a, w) => a + (w.attempts as number), 0),
      lastError: (mine.find((w) => w.last_error)?.last_error as string | undefined) ?? null,
    };
  });
  return {
    requestId: (req[0]?.id as string | undefined) ?? null,
    requestCreatedMs: msOf(req[0]?.created_ms),
    sessionsRevoked: ses[0].revoked as number,
    lastSessionRevokedMs: msOf(ses[0].last_ms),
    deliveries: del[0].n as number,
    subOnly: del[0].sub_only as number,
    firstPlannedMs: msOf(del[0].first_ms),
    lastPlannedMs: msOf(del[0].last_ms),
    lastSucceededMs: msOf(del[0].succeeded_ms),
    byStatus: Object.fromEntries(statuses.map((s) => [s.status as string, s.n as number])),
    retriedHealthy: del[0].retried as number,
    watched: watchedOut,
  };
}

/** Rows of the outbox not yet published, and deliveries still pending for the given clients. */
export async function backlog(db: Client, clients: string[]): Promise<{ outbox: number; pending: number }> {
  const { rows } = await db.query(
    `SELECT (SELECT count(*) FROM outbox)::int AS outbox,
            (SELECT count(*) FROM backchannel_deliveries WHERE status = 'pending' AND client_id = ANY($1::text[]))::int AS pending`,
    [clients],
  );
  return rows[0] as { outbox: number; pending: number };
}

/** Deliveries of one user still pending at the given clients (planned, not yet finished). */
export async function pendingFor(db: Client, userId: string, clients: string[]): Promise<number> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n FROM backchannel_deliveries WHERE user_id = $1 AND status = 'pending' AND client_id = ANY($2::text[])`,
    [userId, clients],
  );
  return rows[0].n as number;
}

/**
 * How many of the clients have, in PostgreSQL (where the dispatcher reads them), the given signing
 * algorithm and `backchannel_logout_session_required`.
 */
export async function clientsWithSettings(db: Client, clients: string[], alg: string, sessionRequired: boolean): Promise<number> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n FROM clients
     WHERE client_id = ANY($1::text[])
       AND oidc_logout ->> 'backchannel_logout_signing_alg' = $2
       AND (oidc_logout ->> 'backchannel_logout_session_required')::boolean = $3`,
    [clients, alg, sessionRequired],
  );
  return rows[0].n as number;
}

/** Waits (bounded) until the outbox is published and the clients have nothing pending. */
export async function waitForQuiet(db: Client, clients: string[], timeoutMs: number): Promise<{ outbox: number; pending: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const b = await backlog(db, clients);
    if ((b.outbox === 0 && b.pending === 0) || Date.now() >= deadline) return b;
    await sleep(200);
  }
}

/**
 * Sets aside (parks) what an earlier run left pending, so the next run measures its own fan-out
 * rather than queueing behind a backlog; rows a dispatcher has locked at that moment are skipped.
 */
export async function parkLeftovers(db: Client, clients: string[]): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE backchannel_deliveries SET status = 'parked', last_error = 'set aside by the benchmark before its next run', updated_at = now()
     WHERE id IN (SELECT id FROM backchannel_deliveries WHERE status = 'pending' AND client_id = ANY($1::text[]) FOR UPDATE SKIP LOCKED)`,
    [clients],
  );
  return rowCount ?? 0;
}

/** What the planner believes about backchannel_deliveries: its size and the share of each status. */
export async function plannerView(db: Client): Promise<string> {
  const { rows } = await db.query(
    `SELECT c.reltuples::bigint AS reltuples, s.last_analyze, s.last_autoanalyze,
            (SELECT most_common_vals::text FROM pg_stats WHERE tablename = 'backchannel_deliveries' AND attname = 'status') AS vals,
            (SELECT most_common_freqs::text FROM pg_stats WHERE tablename = 'backchannel_deliveries' AND attname = 'status') AS freqs
     FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = 'backchannel_deliveries'`,
  );
  const r = rows[0] as { reltuples: string; last_analyze: Date | null; last_autoanalyze: Date | null; vals: string | null; freqs: string | null } | undefined;
  if (!r) return 'no statistics';
  const analyzed = r.last_analyze ?? r.last_autoanalyze;
  if (!analyzed) return `never analyzed (reltuples ${r.reltuples}): the planner falls back to default selectivities`;
  return `analyzed at ${analyzed.toISOString()} with ${r.reltuples} rows; status values ${r.vals ?? '{}'} with frequencies ${r.freqs ?? '{}'}`;
}

/**
 * The plan PostgreSQL picks for the dispatcher's claim, captured verbatim from pg_stat_activity:
 * PREPARE + EXPLAIN EXECUTE (no ANALYZE, so nothing is claimed), with the parameters of a claim
 * for `free` slots, `perClient` per client and no saturated client.
 */
export async function explainClaim(db: Client, query: string | null, free: number, perClient: number): Promise<string[]> {
  if (!query) return ['(no claim statement was seen in pg_stat_activity)'];
  if (!/RETURNING[\s\S]*(created_at|signing_alg)\s*$/.test(query)) return ['(the claim statement in pg_stat_activity was truncated; raise track_activity_query_size to see its plan)'];
  const name = `bench_claim_${Date.now()}`;
  try {
    await db.query(`PREPARE ${name}(int, int, text[]) AS ${query}`);
    const { rows } = await db.query(`EXPLAIN EXECUTE ${name}(${Number(free)}, ${Number(perClient)}, '{}')`);
    return rows.map((r) => (r as Record<string, string>)['QUERY PLAN']);
  } catch (err) {
    return [`(EXPLAIN failed: ${(err as Error).message})`];
  } finally {
    await db.query(`DEALLOCATE ${name}`).catch(() => undefined);
  }
}

/** Scans of a table so far (sequential + index): for signing_keys, one per key lookup. */
export async function tableScans(db: Client, table: string): Promise<number> {
  const { rows } = await db.query(
    `SELECT (coalesce(seq_scan, 0) + coalesce(idx_scan, 0))::float8 AS n FROM pg_stat_user_tables WHERE relname = $1`,
    [table],
  );
  return (rows[0]?.n as number | undefined) ?? 0;
}

/** What a sampled statement is, by its text: the dispatcher's statements by name, the rest coarsely. */
function statementKind(query: string): string {
  const q = query.replace(/\s+/g, ' ').trim();
  // The claim is recognised by what it does (it leases rows), not by how its SELECT is written; at
  // more than track_activity_query_size (1 kB by default) its text is cut before the UPDATE, so
  // its loose index scan over the due clients names it too.
  if (/UPDATE backchannel_deliveries \w+ SET attempts = \w+\.attempts \+ 1/.test(q) || q.startsWith('WITH RECURSIVE due_clients')) {
    return 'scheduler claim (UPDATE ... attempts + 1)';
  }
  if (/UPDATE backchannel_deliveries \w+ SET status = \w+\.status/.test(q)) return 'outcomes: UPDATE deliveries (group commit)';
  if (/UPDATE backchannel_deliveries SET status/.test(q)) return 'outcome: UPDATE delivery status';
  if (/UPDATE backchannel_deliveries SET next_attempt_at/.test(q)) return 'outcome: UPDATE delivery retry';
  if (q.includes('INSERT INTO log_events')) return 'outcome: INSERT log_events + outbox';
  if (q.includes('INSERT INTO backchannel_deliveries')) return 'plan: INSERT deliveries';
  // The session-terminator's and refresh-token-revoker's revocations share one WITH list.
  const revoke = /^WITH req AS \(.* JOIN (sessions|refresh_tokens) x ON/.exec(q);
  if (revoke) return `revoke ${revoke[1]} (WITH req AS ...)`;
  if (/FROM outbox ORDER BY id LIMIT/.test(q)) return 'outbox relay: SELECT FOR UPDATE';
  if (q.startsWith('DELETE FROM outbox')) return 'outbox relay: DELETE';
  if (/INSERT INTO "?outbox"?/.test(q)) return 'INSERT outbox';
  if (q.startsWith('SELECT name FROM clients')) return 'client name lookup';
  if (q.startsWith('SET LOCAL synchronous_commit')) return 'SET LOCAL synchronous_commit';
  if (q.startsWith('COMMIT')) return 'COMMIT';
  if (q.startsWith('START TRANSACTION') || q.startsWith('BEGIN')) return 'BEGIN';
  if (q.startsWith('ROLLBACK')) return 'ROLLBACK';
  return `other: ${q.slice(0, 48)}`;
}

export interface ActivityRow {
  kind: string;
  state: string;
  /** Average number of backends in this kind and state over the samples. */
  average: number;
  /** The most frequent wait event while in it (active backends only), with its share. */
  topWait: string;
}

export interface ActivityReport {
  samples: number;
  intervalMs: number;
  rows: ActivityRow[];
  /** Average number of bench-database backends that were active (running or waiting) at a sample. */
  activeAverage: number;
  /** The scheduler's claim statement as PostgreSQL received it (first one seen), for EXPLAIN. */
  claimQuery: string | null;
}

/**
 * Samples pg_stat_activity of the bench database every `intervalMs` until stopped: which statements
 * the backends are in and what they wait on. The average count per statement approximates how much
 * PostgreSQL time (or connection-holding time, for "idle in transaction") each one takes.
 */
export class ActivitySampler {
  private samples = 0;
  private readonly counts = new Map<string, { n: number; waits: Map<string, number> }>();
  private activeTotal = 0;
  private claimQuery: string | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly db: Client,
    private readonly database: string,
    private readonly intervalMs: number,
    private readonly maxMs: number,
  ) {}

  start(): void {
    const until = Date.now() + this.maxMs;
    this.loop = (async () => {
      while (!this.stopped && Date.now() < until) {
        const started = Date.now();
        try {
          const { rows } = await this.db.query(
            `SELECT state, wait_event_type, wait_event, query FROM pg_stat_activity
             WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'`,
            [this.database],
          );
          this.samples++;
          for (const r of rows) {
            const state = r.state as string;
            const kind = statementKind(r.query as string);
            if (this.claimQuery === null && kind.startsWith('scheduler claim')) this.claimQuery = r.query as string;
            const key = `${kind}\u0000${state}`;
            let c = this.counts.get(key);
            if (!c) this.counts.set(key, (c = { n: 0, waits: new Map() }));
            c.n++;
            if (state === 'active') {
              this.activeTotal++;
              const wait = r.wait_event ? `${r.wait_event_type}:${r.wait_event}` : 'CPU (no wait)';
              c.waits.set(wait, (c.waits.get(wait) ?? 0) + 1);
            }
          }
        } catch {
          // A failed sample is simply not counted.
        }
        await sleep(Math.max(0, this.intervalMs - (Date.now() - started)));
      }
    })();
  }

  async stop(): Promise<ActivityReport> {
    this.stopped = true;
    await this.loop;
    const rows: ActivityRow[] = [];
    for (const [key, c] of this.counts) {
      const [kind, state] = key.split('\u0000');
      const waits = [...c.waits].sort((a, b) => b[1] - a[1]);
      const top = waits[0];
      rows.push({
        kind,
        state,
        average: c.n / Math.max(1, this.samples),
        topWait: top ? `${top[0]} ${((top[1] / c.n) * 100).toFixed(0)}%` : '',
      });
    }
    rows.sort((a, b) => b.average - a.average);
    return {
      samples: this.samples,
      intervalMs: this.intervalMs,
      rows,
      activeAverage: this.activeTotal / Math.max(1, this.samples),
      claimQuery: this.claimQuery,
    };
  }
}
