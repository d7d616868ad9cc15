/**
 * npm run bench:retention — the retention prune under load: the gateway benchmark's paced phase
 * (phase C of bench:gateway) while a prune drops 10 days of a 40-day log.
 *
 * Runs the real gateway, session-terminator and refresh-token-revoker against a fresh database and
 * fresh Kafka topics (fake Okta on 127.0.0.1), and seeds the database straight through SQL:
 * BENCH_LOG_ROWS log events spread evenly over the 40 UTC days before today (one partition each,
 * ULID log_ids minted at their day), and in proportion to them (see SHARE) logout requests
 * completed over the same 40 days with their revoked sessions, session_clients, revoked refresh
 * tokens and back-channel deliveries, plus the users they belong to with their active sessions and
 * refresh tokens. Then, at the same offered rate (fresh users, 2 sessions + 2 refresh tokens each):
 *   1  baseline: the paced load alone;
 *   2  the paced load while the bench runs the gateway's RetentionPruner (over its own DataSource)
 *      as of the start of today (UTC) with the default retention: LOG_RETENTION_DAYS 30 puts
 *      exactly the 10 oldest days of the log past it, LOGOUT_REQUEST_RETENTION_DAYS 30 the 10
 *      oldest days of logout requests, REVOKED_CREDENTIAL_RETENTION_DAYS 7 the 33 oldest days of
 *      revoked sessions and refresh tokens;
 *   3  the baseline again, once the prune is over (how far the two baselines differ is the noise).
 * For each phase: p50/p99 of 204 -> fully revoked (logout_requests.created_at -> completed_at); for
 * phase 2 also of the logouts answered while the prune ran and while it dropped the log's days;
 * and the backends seen waiting on a lock. Prints the prune's steps and what it removed, the table
 * sizes before and after it, and the target: p99 during the prune <= 1.5 x the baselines' (the mean
 * of phases 1 and 3, which bracket it). A 10 s paced warm-up comes before phase 1. Exits 0
 * when the target is missed (it says MISSED, or UNDECIDED when a baseline phase did not complete
 * every logout in time), non-zero only when the run fails.
 *
 * The apps' own prune is kept idle (retention of 3650 days, once a day): the bench's prune is the
 * only one that removes anything.
 *
 * Environment:
 *   BENCH_LOG_ROWS              log events seeded; every other table scales with it     10000000
 *   BENCH_RATE                  offered rate of the paced phases, logouts/s                  500
 *   BENCH_RATE_SECONDS          duration of each paced phase                                  30
 *   BENCH_COMPLETION_TIMEOUT_S  later than this after its 204 counts as not completed         30
 *   BENCH_MAX_SECONDS           the whole run; beyond it the bench stops, exit 1            1800
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { encodeTime } from 'ulid';
import { loadGatewayConfig } from '@ulo/config';
import {
  createDataSource,
  LogoutRequestRepository,
  LogPartitionsRepository,
  RefreshTokenRepository,
  SessionRepository,
} from '@ulo/persistence';
import { PruneReport, RetentionPruner } from '../../apps/gateway/src/retention/retention.pruner';
import { AppStack, BENCH_CONNECTION, GTR_PATH, intFromEnv, pad, padL, repoRoot, runBench, say, startAppStack, undo } from './bench-run';
import { BENCH_CLIENT_ID, providerUserIdOf, seedUsers, userIdOf } from './database';
import { BenchSubject } from './fake-idp';
import { pacedRun, PacedFigures, percentile } from './load';
import { sleep } from './processes';

/** The apps under test; the two consumers complete each logout. */
const APPS = ['gateway', 'session-terminator', 'refresh-token-revoker'];
const DAY_MS = 86_400_000;
/** Days of history seeded, and the retention the bench's prune applies (the defaults, stated so a shell's variables change nothing). */
const SEEDED_DAYS = 40;
const RETENTION = {
  LOG_RETENTION_DAYS: '30',
  LOGOUT_REQUEST_RETENTION_DAYS: '30',
  PARKED_DELIVERY_RETENTION_DAYS: '90',
  REVOKED_CREDENTIAL_RETENTION_DAYS: '7',
};
/** What the apps' own prune is given: nothing is ever due, and it runs once a day. */
const NOTHING_DUE = {
  LOG_RETENTION_DAYS: '3650',
  LOGOUT_REQUEST_RETENTION_DAYS: '3650',
  PARKED_DELIVERY_RETENTION_DAYS: '3650',
  REVOKED_CREDENTIAL_RETENTION_DAYS: '3650',
  RETENTION_PRUNE_INTERVAL_MS: String(DAY_MS),
};
/**
 * The other tables in proportion to the log: one logout request per 9 log events (its own events,
 * a universal_logout_succeeded, 2 srrt and a back-channel one, are about half of them; management
 * calls and failures the rest), each with 2 revoked sessions and 2 revoked refresh tokens and one
 * back-channel delivery; every user logs out about 4 times in the 40 days.
 */
const SHARE = { logEventsPerRequest: 9, requestsPerUser: 4, credentialsPerRequest: 2 };
/** A paced warm-up this long before phase 1, so that phase 1 is not the first to find caches and JIT cold. */
const WARMUP_SECONDS = 10;
/** The prune starts this long into phase 2: the pipeline is at its steady pace when it does. */
const PRUNE_LEAD_MS = 2_000;
const TARGET_RATIO = 1.5;
const LOCK_SAMPLE_MS = 100;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** SQL for the 16-character random part of a ULID, from the first 16 bytes of `bytes` (a bytea expression). */
const ulidRandomSql = (bytes: string) =>
  Array.from({ length: 16 }, (_, i) => `substr('${CROCKFORD}', (get_byte(${bytes}, ${i}) & 31) + 1, 1)`).join(' || ');
/** SQL for a timestamptz as the ISO text a LogEvent carries. */
const isoSql = (at: string) => `to_char(${at} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const epochNow = () => performance.timeOrigin + performance.now();
const startOfUtcDay = (ms: number) => ms - (ms % DAY_MS);
const seconds = (fromMs: number, toMs = performance.now()) => ((toMs - fromMs) / 1000).toFixed(1);
const ms = (v: number) => (Number.isNaN(v) ? 'n/a' : v === Infinity ? 'never' : `${v.toFixed(1)} ms`);
/** `total` spread over `parts` as evenly as whole numbers allow: the share of part `i`. */
const shareOf = (total: number, parts: number, i: number) => Math.floor(total / parts) + (i < total % parts ? 1 : 0);
const dayName = (dayStartMs: number) => `log_events_${new Date(dayStartMs).toISOString().slice(0, 10).replace(/-/g, '')}`;

// --- Seeding ---------------------------------------------------------------------------------------

interface History {
  logRows: number;
  requests: number;
  users: number;
  connectionId: string;
}

/**
 * The partitions of the seeded days, before any row is written (a row of a day without one would
 * land in log_events_default, which no prune drops): LogPartitionsRepository.ensureAhead from the
 * oldest seeded day, which creates the days from that one to today that do not exist yet.
 */
async function ensureSeededDays(dataSource: DataSource, asOf: number): Promise<void> {
  const partitions = new LogPartitionsRepository(dataSource);
  const wanted = Array.from({ length: SEEDED_DAYS }, (_, i) => dayName(asOf - (SEEDED_DAYS - i) * DAY_MS));
  // ensureAhead stops early, without failing, when a lock is not to be had in 500 ms: try again.
  for (let attempt = 1; ; attempt++) {
    const created = await partitions.ensureAhead(SEEDED_DAYS, new Date(asOf - SEEDED_DAYS * DAY_MS));
    const names = new Set((await partitions.partitions()).map((p) => p.name));
    const missing = wanted.filter((name) => !names.has(name));
    if (missing.length === 0) {
      say(`log partitions: created ${created.length} (${created[0] ?? 'none'} … ${created[created.length - 1] ?? 'none'}) through LogPartitionsRepository.ensureAhead`);
      return;
    }
    if (attempt === 3) throw new Error(`log partitions still missing after ${attempt} attempts: ${missing.join(', ')}`);
  }
}

/** One UTC day of history, in one transaction: the day's logout requests and what they revoked, and the day's log events. */
async function seedDay(db: Client, h: History, day: number, dayStartMs: number, firstRequest: number): Promise<number> {
  const requests = shareOf(h.requests, SEEDED_DAYS, day);
  const logRows = shareOf(h.logRows, SEEDED_DAYS, day);
  // The day's log events, evenly spread; their ULID time parts are made here (the same in SQL costs a third of the insert).
  const times = Array.from({ length: logRows }, (_, i) => dayStartMs + Math.floor(((i + 0.5) * DAY_MS) / logRows));
  await db.query('BEGIN');
  try {
    // The day's requests, evenly spread; each for one user, complete 120 ms after its acceptance.
    await db.query(
      `CREATE TEMP TABLE seed_requests ON COMMIT DROP AS
       SELECT k, md5('lr:' || k)::uuid::text AS id, 'bench|h|' || (1 + k % $4::int) AS user_id, created_at, created_at + interval '120 ms' AS completed_at
       FROM generate_series(1, $2::int) g,
            LATERAL (SELECT $3::bigint + g AS k, to_timestamp(($1::bigint + floor((g - 0.5) * 86400000.0 / $2::int)) / 1000.0) AS created_at) r`,
      [dayStartMs, requests, firstRequest, h.users],
    );
    await db.query(
      `INSERT INTO logout_requests (id, initiator, connection_id, connection_name, user_ids, payload, origin, created_at,
                                    sessions_revoked, refresh_tokens_revoked, completed_at, announced_at)
       SELECT r.id, 'idp-logout', $1::text, $2::text, ARRAY[r.user_id],
              jsonb_build_object('requestId', r.id, 'initiator', 'idp-logout', 'userIds', jsonb_build_array(r.user_id),
                                 'connection', jsonb_build_object('id', $1::text, 'name', $2::text),
                                 'sessions', '{"mode":"all"}'::jsonb, 'refreshTokens', '{"mode":"all"}'::jsonb, 'acceptedAt', ${isoSql('r.created_at')}),
              jsonb_build_object('ip', '203.0.113.' || (1 + r.k % 254), 'user_agent', 'Okta-Global-Token-Revocation/1.0', 'hostname', 'logout.bench.example'),
              r.created_at, $3::int, $3::int, r.completed_at, r.created_at
       FROM seed_requests r`,
      [h.connectionId, BENCH_CONNECTION, SHARE.credentialsPerRequest],
    );
    // Sessions logged in hours before the logout; the first at the app with back-channel logout.
    await db.query(
      `INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at, revoked_by)
       SELECT 'ses_hist_' || r.k || '_' || i, r.user_id, r.created_at - (1 + r.k % 48) * interval '1 hour',
              r.created_at + interval '1 day', r.created_at + interval '60 ms', r.id
       FROM seed_requests r, generate_series(1, $1::int) i`,
      [SHARE.credentialsPerRequest],
    );
    await db.query(
      `INSERT INTO session_clients (session_id, client_id)
       SELECT 'ses_hist_' || r.k || '_' || i, CASE WHEN i = 1 THEN $2::text ELSE 'bench-web' END
       FROM seed_requests r, generate_series(1, $1::int) i`,
      [SHARE.credentialsPerRequest, BENCH_CLIENT_ID],
    );
    await db.query(
      `INSERT INTO refresh_tokens (id, user_id, client_id, session_id, created_at, expires_at, revoked_at, revoked_by)
       SELECT 'rt_hist_' || r.k || '_' || i, r.user_id, CASE WHEN i = 1 THEN $2::text ELSE 'bench-web' END, 'ses_hist_' || r.k || '_' || i,
              r.created_at - (1 + r.k % 48) * interval '1 hour', r.created_at + interval '30 days', r.created_at + interval '70 ms', r.id
       FROM seed_requests r, generate_series(1, $1::int) i`,
      [SHARE.credentialsPerRequest, BENCH_CLIENT_ID],
    );
    // One delivery per request; 1 in 100 failed for good (not pending, not parked: prunable).
    await db.query(
      `INSERT INTO backchannel_deliveries (id, request_id, session_id, user_id, client_id, url, initiator, status, attempts,
                                           next_attempt_at, last_status_code, last_error, created_at, updated_at)
       SELECT gen_random_uuid()::text, r.id, 'ses_hist_' || r.k || '_1', r.user_id, $1::text, 'https://app.bench.example/backchannel-logout',
              'idp-logout', CASE WHEN r.k % 100 = 0 THEN 'failed' ELSE 'succeeded' END, CASE WHEN r.k % 100 = 0 THEN 8 ELSE 1 END,
              r.completed_at, CASE WHEN r.k % 100 = 0 THEN 503 ELSE 200 END, CASE WHEN r.k % 100 = 0 THEN 'HTTP 503' END,
              r.created_at + interval '80 ms', r.completed_at + interval '30 ms'
       FROM seed_requests r`,
      [BENCH_CLIENT_ID],
    );
    await db.query(
      // OFFSET 0 keeps each LATERAL step from being inlined: without it every use of t.r, k.type… evaluates
      // its whole expression again (md5 some 25 times a row), and the statement takes 3 to 4 times as long.
      `INSERT INTO log_events (log_id, date, type, user_id, connection, client_id, data)
       SELECT e.log_id, t.at, k.type, e.user_id, e.connection, e.client_id,
              jsonb_build_object('log_id', e.log_id, 'date', ${isoSql('t.at')}, 'type', k.type, 'description', e.description,
                                 'connection', e.connection, 'connection_id', e.connection_id, 'client_id', e.client_id,
                                 'client_name', e.client_name, 'user_id', e.user_id, 'identity_user_id', e.identity_user_id,
                                 'ip', '203.0.113.' || (1 + get_byte(t.r, 6) % 254), 'user_agent', e.user_agent,
                                 'hostname', 'logout.bench.example', 'details', e.details)
       FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS p (ms, prefix, g)
       CROSS JOIN LATERAL (
         SELECT to_timestamp(p.ms / 1000.0) AS at, decode(md5($3::text || ':' || p.g), 'hex') AS r
         OFFSET 0) t
       CROSS JOIN LATERAL (
         SELECT CASE WHEN m < 35 THEN 'srrt' WHEN m < 55 THEN 'universal_logout_succeeded'
                     WHEN m < 75 THEN 'oidc_backchannel_logout_succeeded' WHEN m < 77 THEN 'universal_logout_failed'
                     WHEN m < 79 THEN 'oidc_backchannel_logout_failed' WHEN m < 97 THEN 'sapi' ELSE 'fapi' END AS type,
                1 + (get_byte(t.r, 2) * 65536 + get_byte(t.r, 3) * 256 + get_byte(t.r, 4)) % $4::int AS u,
                get_byte(t.r, 5) % 50 AS app
         FROM (SELECT (get_byte(t.r, 0) * 256 + get_byte(t.r, 1)) % 100 AS m) mix
         OFFSET 0) k
       CROSS JOIN LATERAL (
         SELECT p.prefix || ${ulidRandomSql('t.r')} AS log_id,
                CASE WHEN k.type IN ('sapi', 'fapi') THEN NULL ELSE 'bench|h|' || k.u END AS user_id,
                CASE WHEN k.type IN ('sapi', 'fapi') THEN NULL ELSE 'bench-okta' END AS connection,
                CASE WHEN k.type IN ('sapi', 'fapi') THEN NULL ELSE $5::text END AS connection_id,
                CASE WHEN k.type IN ('srrt', 'oidc_backchannel_logout_succeeded', 'oidc_backchannel_logout_failed') THEN 'app-' || k.app END AS client_id,
                CASE WHEN k.type IN ('srrt', 'oidc_backchannel_logout_succeeded', 'oidc_backchannel_logout_failed') THEN 'Bench app ' || k.app END AS client_name,
                CASE WHEN k.type IN ('sapi', 'fapi') THEN NULL ELSE '00uh' || k.u END AS identity_user_id,
                CASE WHEN k.type IN ('sapi', 'fapi') THEN 'bench-admin/1.0' ELSE 'Okta-Global-Token-Revocation/1.0' END AS user_agent,
                CASE k.type WHEN 'srrt' THEN 'Refresh token revoked' WHEN 'universal_logout_succeeded' THEN 'Universal Logout succeeded'
                            WHEN 'universal_logout_failed' THEN 'Universal Logout failed: the subject names no user'
                            WHEN 'sapi' THEN 'Management API call' WHEN 'fapi' THEN 'Management API call failed'
                            ELSE 'Back-channel logout delivered' END AS description,
                CASE WHEN k.type IN ('sapi', 'fapi')
                     THEN jsonb_build_object('method', 'GET', 'path', '/api/v2/logs', 'status', CASE k.type WHEN 'sapi' THEN 200 ELSE 403 END)
                     ELSE jsonb_build_object('request_id', md5('lr:' || k.u)::uuid::text, 'sessions_revoked', 2, 'refresh_tokens_revoked', 2) END AS details
         OFFSET 0) e`,
      [times, times.map((t) => encodeTime(t, 10)), `day${day}`, h.users, h.connectionId],
    );
    await db.query('COMMIT');
  } catch (err) {
    await db.query('ROLLBACK');
    throw err;
  }
  return requests;
}

/** The 40 days of history, oldest first; then checks that every log row is in its day's partition. */
async function seedHistory(db: Client, h: History, asOf: number): Promise<void> {
  let nextRequest = 0;
  const started = performance.now();
  for (let i = 0; i < SEEDED_DAYS; i++) {
    nextRequest += await seedDay(db, h, i, asOf - (SEEDED_DAYS - i) * DAY_MS, nextRequest);
    if ((i + 1) % 5 === 0) say(`seeded ${i + 1} of ${SEEDED_DAYS} days of history in ${seconds(started)} s`);
  }
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM log_events_default`);
  if ((rows[0] as { n: number }).n !== 0) throw new Error(`${(rows[0] as { n: number }).n} seeded log rows landed in log_events_default`);
}

// --- Measuring ---------------------------------------------------------------------------------------

interface TableSize {
  table: string;
  rows: number;
  bytes: number;
  pretty: string;
}

const TABLES = ['log_events', 'logout_requests', 'backchannel_deliveries', 'sessions', 'session_clients', 'refresh_tokens', 'users', 'user_identities', 'outbox', 'seen_jtis'];

/**
 * Exact row counts and pg_total_relation_size (of every partition, for the log: pg_partition_tree
 * lists nothing for a plain table); never during a phase: a count of the log holds up its DDL.
 */
async function tableSizes(db: Client): Promise<TableSize[]> {
  const out: TableSize[] = [];
  for (const table of TABLES) {
    const { rows } = await db.query(
      `SELECT (SELECT count(*) FROM ${table})::float8 AS rows, s.bytes::float8 AS bytes, pg_size_pretty(s.bytes) AS pretty
       FROM (SELECT coalesce((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree($1::regclass) WHERE isleaf),
                             pg_total_relation_size($1::regclass))::bigint AS bytes) s`,
      [table],
    );
    out.push({ table, ...(rows[0] as Omit<TableSize, 'table'>) });
  }
  return out;
}

async function logPartitionCount(db: Client): Promise<number> {
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM pg_partition_tree('log_events') WHERE isleaf`);
  return (rows[0] as { n: number }).n;
}

/** Backends of the bench database seen waiting on a lock, sampled every LOCK_SAMPLE_MS over a phase. */
interface LockWaits {
  samples: number;
  samplesWithWaits: number;
  maxWaiting: number;
  longestMs: number;
  /** pg_stat_activity.wait_event of the waits (relation: a table lock; transactionid, tuple: a row lock), with samples seen. */
  events: Map<string, number>;
}

class LockWatch {
  private running: Promise<void> | null = null;
  private stopped = false;
  private waits: LockWaits = LockWatch.empty();

  constructor(
    private readonly client: Client,
    private readonly dbName: string,
  ) {}

  private static empty(): LockWaits {
    return { samples: 0, samplesWithWaits: 0, maxWaiting: 0, longestMs: 0, events: new Map() };
  }

  start(): void {
    this.stopped = false;
    this.waits = LockWatch.empty();
    this.running = (async () => {
      while (!this.stopped) {
        // A failed sample is a sample missed, not a failed run.
        await this.sample().catch(() => undefined);
        await sleep(LOCK_SAMPLE_MS);
      }
    })();
  }

  async stop(): Promise<LockWaits> {
    this.stopped = true;
    await this.running;
    return this.waits;
  }

  private async sample(): Promise<void> {
    const { rows } = await this.client.query(
      `SELECT wait_event, (extract(epoch FROM clock_timestamp() - query_start) * 1000)::float8 AS waited_ms
       FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`,
      [this.dbName],
    );
    const w = this.waits;
    w.samples++;
    if (rows.length === 0) return;
    w.samplesWithWaits++;
    w.maxWaiting = Math.max(w.maxWaiting, rows.length);
    for (const r of rows as { wait_event: string; waited_ms: number }[]) {
      w.longestMs = Math.max(w.longestMs, r.waited_ms);
      w.events.set(r.wait_event, (w.events.get(r.wait_event) ?? 0) + 1);
    }
  }
}

/** Calls of one repository method the prune makes: how many, how long, and when (epoch ms). */
class CallTimes {
  calls = 0;
  totalMs = 0;
  longestMs = 0;
  firstAt = NaN;
  lastAt = NaN;

  constructor(readonly label: string) {}

  wrap<A extends unknown[], R>(call: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args: A) => {
      const started = epochNow();
      try {
        return await call(...args);
      } finally {
        const ended = epochNow();
        this.calls++;
        this.totalMs += ended - started;
        this.longestMs = Math.max(this.longestMs, ended - started);
        if (Number.isNaN(this.firstAt)) this.firstAt = started;
        this.lastAt = ended;
      }
    };
  }
}

interface TimedPruner {
  pruner: RetentionPruner;
  steps: { ensure: CallTimes; drop: CallTimes; sessions: CallTimes; refreshTokens: CallTimes; requests: CallTimes };
}

/**
 * The gateway's RetentionPruner with the default retention, over the bench's DataSource, its
 * repositories' prune methods timed. Its log lines go to stderr with the progress.
 */
function timedPruner(dataSource: DataSource, databaseUrl: string): TimedPruner {
  const toStderr = (message: unknown) => say(`retention: ${String(message)}`);
  Logger.overrideLogger({ log: toStderr, warn: toStderr, error: toStderr });
  // The pruner reads only config.retention; the rest of the schema has its defaults or these.
  const config = loadGatewayConfig({ DATABASE_URL: databaseUrl, SIGNING_KEY_ENCRYPTION_SECRET: 'bench-retention-unused-secret', ...RETENTION });
  const steps = {
    ensure: new CallTimes('ensureAhead (partitions ahead)'),
    drop: new CallTimes('dropBefore (log days)'),
    sessions: new CallTimes('sessions, 1,000 a chunk'),
    refreshTokens: new CallTimes('refresh tokens, 1,000 a chunk'),
    requests: new CallTimes('logout requests + deliveries'),
  };
  const partitions = new LogPartitionsRepository(dataSource);
  partitions.ensureAhead = steps.ensure.wrap(partitions.ensureAhead.bind(partitions));
  partitions.dropBefore = steps.drop.wrap(partitions.dropBefore.bind(partitions));
  const sessions = new SessionRepository();
  sessions.pruneRevokedBefore = steps.sessions.wrap(sessions.pruneRevokedBefore.bind(sessions));
  const refreshTokens = new RefreshTokenRepository();
  refreshTokens.pruneRevokedBefore = steps.refreshTokens.wrap(refreshTokens.pruneRevokedBefore.bind(refreshTokens));
  const requests = new LogoutRequestRepository();
  requests.pruneCompleteBefore = steps.requests.wrap(requests.pruneCompleteBefore.bind(requests));
  return { pruner: new RetentionPruner(config, dataSource, partitions, sessions, refreshTokens, requests), steps };
}

interface PruneRun {
  report: PruneReport;
  startedAt: number;
  endedAt: number;
}

/** The prune of phase 2: started while the load runs, awaited after it; a failure is kept until then. */
class ConcurrentPrune {
  private outcome: Promise<PruneRun | Error> | null = null;

  constructor(
    private readonly timed: TimedPruner,
    private readonly asOf: Date,
  ) {}

  start(): void {
    this.outcome = (async () => {
      await sleep(PRUNE_LEAD_MS);
      say(`the prune starts (as of ${this.asOf.toISOString()})`);
      const startedAt = epochNow();
      const report = await this.timed.pruner.prune(this.asOf);
      return { report, startedAt, endedAt: epochNow() };
    })().catch((err: Error) => err);
  }

  async result(): Promise<PruneRun> {
    if (!this.outcome) throw new Error('the prune was never started');
    const outcome = await this.outcome;
    if (outcome instanceof Error) throw outcome;
    return outcome;
  }
}

interface PhaseContext {
  stack: AppStack;
  watch: LockWatch;
  rate: number;
  seconds: number;
  users: number;
  completionTimeoutMs: number;
}

interface Phase {
  label: string;
  figures: PacedFigures;
  startedAt: number;
  /** By user: when its request was accepted and completed (epoch ms; null: not complete). */
  requests: Map<string, { createdMs: number; completedMs: number | null }>;
  pendingAtEnd: number;
  stillActive: number;
  locks: LockWaits;
}

function subjects(group: string, count: number): BenchSubject[] {
  return Array.from({ length: count }, (_, i) => ({ userId: userIdOf(group, i + 1), providerUserId: providerUserIdOf(group, i + 1) }));
}

/** The gateway bench keeps the hot tables vacuumed before each paced phase; so does this one. */
async function vacuumHotTables(db: Client): Promise<void> {
  await db.query('VACUUM (ANALYZE) outbox, logout_requests, seen_jtis, sessions, refresh_tokens, session_clients');
}

/** Incomplete logout requests (their partial index: a few rows, however many completed ones the table keeps). */
async function pendingRequests(db: Client): Promise<number> {
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM logout_requests WHERE completed_at IS NULL`);
  return (rows[0] as { n: number }).n;
}

async function waitForCompletion(db: Client, deadline: number): Promise<number> {
  for (;;) {
    const pending = await pendingRequests(db);
    if (pending === 0 || Date.now() >= deadline) return pending;
    await sleep(200);
  }
}

/** Phase C of bench:gateway: fresh users of `group` at the offered rate; `onLoadStart` runs as the first request leaves. */
async function pacedPhase(ctx: PhaseContext, group: string, label: string, onLoadStart?: () => void): Promise<Phase> {
  const { db, idp, gatewayUrl } = ctx.stack;
  const signed = performance.now();
  const batch = await idp.signBatch(`${gatewayUrl}${GTR_PATH}`, subjects(group, ctx.users));
  say(`phase ${label}: signed ${batch.length} tokens in ${seconds(signed)} s`);
  await vacuumHotTables(db);
  say(`phase ${label}: ${ctx.rate}/s for ${ctx.seconds} s`);
  ctx.watch.start();
  const startedAt = epochNow();
  onLoadStart?.();
  const figures = await pacedRun(gatewayUrl, GTR_PATH, batch, ctx.rate, 256, ctx.seconds * 3 + 30);
  const lastAnswer = figures.outcomes.reduce((last, o) => Math.max(last, o.answeredAt ?? 0), Date.now() - 1);
  const pendingAtEnd = await waitForCompletion(db, lastAnswer + ctx.completionTimeoutMs);
  const locks = await ctx.watch.stop();
  // This phase's requests: completed since it started (their index), or not complete.
  const { rows } = await db.query(
    `SELECT user_ids[1] AS user_id, (extract(epoch FROM created_at) * 1000)::float8 AS created_ms,
            (extract(epoch FROM completed_at) * 1000)::float8 AS completed_ms
     FROM logout_requests WHERE (completed_at >= $2 OR completed_at IS NULL) AND user_ids[1] LIKE $1`,
    [`bench|${group}|%`, new Date(startedAt)],
  );
  const requests = new Map<string, { createdMs: number; completedMs: number | null }>();
  for (const r of rows as { user_id: string; created_ms: number; completed_ms: number | null }[]) {
    requests.set(r.user_id, { createdMs: r.created_ms, completedMs: r.completed_ms });
  }
  const accepted = figures.outcomes.filter((o) => o.status === 204).map((o) => o.userId);
  const { rows: active } = await db.query(
    `SELECT (SELECT count(*) FROM sessions WHERE user_id = ANY($1::text[]) AND revoked_at IS NULL)::int
          + (SELECT count(*) FROM refresh_tokens WHERE user_id = ANY($1::text[]) AND revoked_at IS NULL)::int AS n`,
    [accepted],
  );
  say(`phase ${label}: ${figures.accepted} accepted, ${pendingAtEnd} still pending at the end`);
  return { label, figures, startedAt, requests, pendingAtEnd, stillActive: (active[0] as { n: number }).n, locks };
}

interface RevocationTimes {
  n: number;
  notCompleted: number;
  p50: number;
  p99: number;
  max: number;
}

/** 204 -> fully revoked of the phase's accepted logouts answered within `window` (epoch ms), if given; later than the timeout is Infinity. */
function revocationTimes(phase: Phase, timeoutMs: number, window?: [number, number]): RevocationTimes {
  const values: number[] = [];
  for (const o of phase.figures.outcomes) {
    if (o.status !== 204 || o.answeredAt === null) continue;
    if (window && (o.answeredAt < window[0] || o.answeredAt > window[1])) continue;
    const r = phase.requests.get(o.userId);
    const took = r && r.completedMs !== null ? r.completedMs - r.createdMs : Infinity;
    values.push(took <= timeoutMs ? took : Infinity);
  }
  values.sort((a, b) => a - b);
  return {
    n: values.length,
    notCompleted: values.filter((v) => v === Infinity).length,
    p50: percentile(values, 0.5),
    p99: percentile(values, 0.99),
    max: values.length ? values[values.length - 1] : NaN,
  };
}

// --- The run -------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const runStarted = performance.now();
  const root = repoRoot('bench:retention');
  const cfg = {
    logRows: intFromEnv('BENCH_LOG_ROWS', 10_000_000),
    rate: intFromEnv('BENCH_RATE', 500),
    seconds: intFromEnv('BENCH_RATE_SECONDS', 30),
    completionTimeoutS: intFromEnv('BENCH_COMPLETION_TIMEOUT_S', 30),
  };
  const requests = Math.max(SEEDED_DAYS, Math.round(cfg.logRows / SHARE.logEventsPerRequest));
  const historyUsers = Math.ceil(requests / SHARE.requestsPerUser);
  const phaseUsers = cfg.rate * cfg.seconds;
  const warmupUsers = cfg.rate * WARMUP_SECONDS;
  const loadBefore = loadavg()[0];

  const stack = await startAppStack({
    root,
    tag: 'retention',
    apps: APPS,
    publicBaseUrl: 'own',
    env: { GTR_RATE_LIMIT_PER_SECOND: '100000', GTR_RATE_LIMIT_BURST: '100000', ...NOTHING_DUE },
  });
  const { db, dbName, runId, databaseUrl } = stack;
  const dataSource = createDataSource(databaseUrl);
  await dataSource.initialize();
  undo.push({ what: 'closing the prune DataSource', step: () => dataSource.destroy() });
  const watchClient = new Client({ connectionString: databaseUrl });
  // Dropping the database at the end ends this session too.
  watchClient.on('error', () => undefined);
  await watchClient.connect();
  undo.push({ what: 'closing the lock watch client', step: () => watchClient.end() });

  // The prune's clock: the start of today (UTC). Days 40..1 before it are seeded, 40..31 are past LOG_RETENTION_DAYS.
  const asOf = startOfUtcDay(Date.now());
  const { rows: conn } = await db.query(`SELECT id FROM connections WHERE name = $1`, [BENCH_CONNECTION]);
  const history: History = { logRows: cfg.logRows, requests, users: historyUsers, connectionId: (conn[0] as { id: string }).id };

  // 1. The seed: partitions first, then the users (history and the phases'), then 40 days of history.
  const seedStarted = performance.now();
  await ensureSeededDays(dataSource, asOf);
  await seedUsers(
    db,
    [
      { group: 'h', count: historyUsers },
      { group: 'w', count: warmupUsers },
      { group: 'b', count: phaseUsers },
      { group: 'p', count: phaseUsers },
      { group: 'r', count: phaseUsers },
    ],
    { name: BENCH_CONNECTION, issuer: stack.idp.issuer },
  );
  say(`seeded ${historyUsers + warmupUsers + 3 * phaseUsers} users with their active sessions and refresh tokens in ${seconds(seedStarted)} s`);
  await seedHistory(db, history, asOf);
  const seedSeconds = seconds(seedStarted);
  say(`seeded in ${seedSeconds} s; VACUUM (ANALYZE) of the whole database`);
  // Production's autovacuum would have visited these rows long before a prune (it is off on the bench's server).
  const vacuumStarted = performance.now();
  await db.query('VACUUM (ANALYZE)');
  const vacuumSeconds = seconds(vacuumStarted);
  const { rows: dataBytes } = await db.query(`SELECT avg(pg_column_size(data))::float8 AS b FROM (SELECT data FROM log_events LIMIT 10000) s`);
  const before = await tableSizes(db);
  const partitionsBefore = await logPartitionCount(db);

  // 2. Warm-up at the phases' pace: the gateway fetches the IdP's keys, the apps get JIT-warm, the caches fill.
  const warmBatch = await stack.idp.signBatch(`${stack.gatewayUrl}${GTR_PATH}`, subjects('w', warmupUsers));
  say(`warm-up: ${cfg.rate}/s for ${WARMUP_SECONDS} s`);
  const warm = await pacedRun(stack.gatewayUrl, GTR_PATH, warmBatch, cfg.rate, 256, WARMUP_SECONDS * 3 + 30);
  if (warm.accepted === 0) throw new Error(`the gateway accepted none of ${warm.sent} warm-up requests`);
  await waitForCompletion(db, Date.now() + 60_000);

  // 3. The phases: baseline, with the prune, baseline again.
  const ctx: PhaseContext = {
    stack,
    watch: new LockWatch(watchClient, dbName),
    rate: cfg.rate,
    seconds: cfg.seconds,
    users: phaseUsers,
    completionTimeoutMs: cfg.completionTimeoutS * 1000,
  };
  const timed = timedPruner(dataSource, databaseUrl);
  const prune = new ConcurrentPrune(timed, new Date(asOf));
  const baseline = await pacedPhase(ctx, 'b', '1 baseline');
  const withPrune = await pacedPhase(ctx, 'p', '2 with the prune', () => prune.start());
  const pruned = await prune.result();
  say(`the prune took ${((pruned.endedAt - pruned.startedAt) / 1000).toFixed(1)} s`);
  const after = await tableSizes(db);
  const partitionsAfter = await logPartitionCount(db);
  const again = await pacedPhase(ctx, 'r', '3 baseline again');
  // What the pipeline's own events weigh (today's partition holds only those), beside the seeded ones.
  const { rows: ownBytes } = await db.query(
    `SELECT avg(pg_column_size(data))::float8 AS b FROM (SELECT data FROM ${dayName(startOfUtcDay(Date.now()))} LIMIT 10000) s`,
  );

  // 4. The report.
  const timeoutMs = ctx.completionTimeoutMs;
  const base = revocationTimes(baseline, timeoutMs);
  const duringPrune = revocationTimes(withPrune, timeoutMs, [pruned.startedAt, pruned.endedAt]);
  // A logout accepted just before the drops may have its steps held up by them: from 1 s before.
  const dropWindow: [number, number] = [timed.steps.drop.firstAt - 1000, timed.steps.drop.lastAt];
  const duringDrops = revocationTimes(withPrune, timeoutMs, dropWindow);
  const baseAgain = revocationTimes(again, timeoutMs);
  const r = pruned.report;
  const out: string[] = [];
  out.push('');
  out.push(`Retention benchmark (run ${runId}; ${cpus().length} CPUs; everything on 127.0.0.1: apps, PostgreSQL, Kafka, load)`);
  out.push(`load average before the run ${loadBefore.toFixed(2)}, after ${loadavg()[0].toFixed(2)}`);
  out.push(
    `seeded ${cfg.logRows} log events over the ${SEEDED_DAYS} UTC days before today (one partition a day; data ~${Math.round((dataBytes[0] as { b: number }).b)} bytes, the pipeline's own ~${Math.round((ownBytes[0] as { b: number }).b)}), ` +
      `${requests} completed logout requests with their revoked credentials and deliveries, ${historyUsers + warmupUsers + 3 * phaseUsers} users: ${seedSeconds} s; VACUUM (ANALYZE) ${vacuumSeconds} s`,
  );
  out.push('');
  out.push(pad('table', 24) + padL('rows before', 13) + padL('size before', 13) + padL('rows after', 13) + padL('size after', 13));
  for (const b of before) {
    const a = after.find((t) => t.table === b.table)!;
    const label = b.table === 'log_events' ? `log_events (${partitionsBefore}->${partitionsAfter} parts)` : b.table;
    out.push(pad(label, 24) + padL(b.rows, 13) + padL(b.pretty, 13) + padL(a.rows, 13) + padL(a.pretty, 13));
  }
  out.push('(after: once the prune and phase 2 are done, before any VACUUM; a deleted row\'s space is reused, not given back, so only the log shrinks on disk)');
  out.push('');
  out.push(
    `Prune as of ${new Date(asOf).toISOString()} (LOG_RETENTION_DAYS ${RETENTION.LOG_RETENTION_DAYS}, LOGOUT_REQUEST_RETENTION_DAYS ${RETENTION.LOGOUT_REQUEST_RETENTION_DAYS}, ` +
      `REVOKED_CREDENTIAL_RETENTION_DAYS ${RETENTION.REVOKED_CREDENTIAL_RETENTION_DAYS}), started ${PRUNE_LEAD_MS / 1000} s into phase 2: ` +
      `${((pruned.endedAt - pruned.startedAt) / 1000).toFixed(1)} s`,
  );
  out.push(`  ${pad('step', 32)}${padL('calls', 7)}${padL('total s', 9)}${padL('longest ms', 12)}${padL('from s', 8)}${padL('to s', 8)}`);
  for (const s of Object.values(timed.steps)) {
    const at = (t: number) => (Number.isNaN(t) ? 'n/a' : ((t - pruned.startedAt) / 1000).toFixed(1));
    out.push(
      `  ${pad(s.label, 32)}${padL(s.calls, 7)}${padL((s.totalMs / 1000).toFixed(1), 9)}${padL(s.longestMs.toFixed(0), 12)}${padL(at(s.firstAt), 8)}${padL(at(s.lastAt), 8)}`,
    );
  }
  const droppedRows = r.logPartitionsDropped.reduce((sum, p) => sum + p.rows, 0);
  const names = r.logPartitionsDropped.map((p) => p.name);
  out.push(
    `  log: dropped ${names.length} day partitions (${droppedRows} events)${names.length ? `, ${names[0]} … ${names[names.length - 1]}` : ''}; ` +
      `kept past retention: ${r.logPartitionsKept.length ? r.logPartitionsKept.map((k) => `${k.name} (${k.reason})`).join(', ') : 'none'}; created ${r.logPartitionsCreated.length}`,
  );
  out.push(
    `  deleted: ${r.sessions} sessions (with their session_clients), ${r.refreshTokens} refresh tokens, ` +
      `${r.logoutRequests} logout requests with ${r.deliveries} back-channel deliveries`,
  );
  out.push('');
  out.push(
    `Paced phases: ${cfg.rate}/s for ${cfg.seconds} s each, ${phaseUsers} fresh users (2 sessions + 2 refresh tokens each); ` +
      `204 -> fully revoked = logout_requests.created_at -> completed_at; later than ${cfg.completionTimeoutS} s = never`,
  );
  out.push(
    pad('phase', 34) + padL('sent', 7) + padL('204', 7) + padL('acc/s', 8) + padL('HTTP p99', 10) +
      padL('n', 7) + padL('p50', 10) + padL('p99', 10) + padL('max', 10) + padL('late', 6) + '  lock waits',
  );
  const locksOf = (l: LockWaits) =>
    l.samplesWithWaits === 0
      ? `none in ${l.samples} samples`
      : `in ${l.samplesWithWaits} of ${l.samples} samples, up to ${l.maxWaiting} backends, longest ${l.longestMs.toFixed(0)} ms (${[...l.events].map(([e, n]) => `${e} ${n}`).join(', ')})`;
  const row = (label: string, p: Phase | null, t: RevocationTimes) =>
    pad(label, 34) +
    padL(p ? p.figures.sent : '', 7) +
    padL(p ? p.figures.accepted : '', 7) +
    padL(p ? p.figures.acceptedPerSecond.toFixed(0) : '', 8) +
    padL(p ? ms(p.figures.p99Ms) : '', 10) +
    padL(t.n, 7) +
    padL(ms(t.p50), 10) +
    padL(ms(t.p99), 10) +
    padL(ms(t.max), 10) +
    padL(t.notCompleted, 6) +
    (p ? `  ${locksOf(p.locks)}` : '');
  out.push(row(baseline.label, baseline, base));
  out.push(row(withPrune.label, withPrune, revocationTimes(withPrune, timeoutMs)));
  out.push(row('  answered while the prune ran', null, duringPrune));
  out.push(row('  during the day drops (from -1 s)', null, duringDrops));
  out.push(row(again.label, again, baseAgain));
  for (const p of [baseline, withPrune, again]) {
    const other = Object.entries(p.figures.statuses).filter(([code]) => code !== '204');
    const problems = [
      other.length ? `non-204 answers ${other.map(([c, n]) => `${c}: ${n}`).join(', ')}` : '',
      p.figures.errors ? `${p.figures.errors} transport errors` : '',
      p.figures.unsent ? `${p.figures.unsent} not sent in time` : '',
      p.pendingAtEnd ? `${p.pendingAtEnd} requests still pending at the end` : '',
      p.stillActive ? `${p.stillActive} sessions/refresh tokens of accepted users still active` : '',
    ].filter(Boolean);
    if (problems.length) out.push(`  phase ${p.label}: ${problems.join('; ')}`);
  }
  out.push('');
  const keptUp = (p: Phase) => p.figures.acceptedPerSecond >= 0.95 * cfg.rate;
  // Phases 1 and 3 bracket phase 2: their mean cancels what drifts over the run (the machine is shared).
  const without = (base.p99 + baseAgain.p99) / 2;
  const ratio = duringPrune.p99 / without;
  const allKeptUp = [baseline, withPrune, again].every(keptUp);
  // A baseline whose logouts did not all complete in time is no yardstick: the machine could not carry the load.
  const judged = Number.isFinite(without) && duringPrune.n > 0;
  const verdict = !judged ? 'UNDECIDED' : ratio <= TARGET_RATIO && allKeptUp ? 'MET' : 'MISSED';
  out.push('Target');
  out.push(
    `  p99 204 -> fully revoked during the prune <= ${TARGET_RATIO} x without it (mean of phases 1 and 3): ` +
      `${ms(duringPrune.p99)} / ${ms(without)} = ${judged ? ratio.toFixed(2) : 'n/a'}   ${verdict}` +
      (judged ? '' : ' (a baseline phase did not complete every logout in time)') +
      (allKeptUp ? '' : ` (a phase accepted less than 95 % of ${cfg.rate}/s)`),
  );
  out.push(
    `  against each: phase 1 ${(duringPrune.p99 / base.p99).toFixed(2)}, phase 3 ${(duringPrune.p99 / baseAgain.p99).toFixed(2)}; ` +
      `the whole of phase 2 ${(revocationTimes(withPrune, timeoutMs).p99 / without).toFixed(2)}`,
  );
  out.push('');
  out.push(`whole run ${seconds(runStarted)} s (cleanup not included)`);
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

runBench(main, 1800);
