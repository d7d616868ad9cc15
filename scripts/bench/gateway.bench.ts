/**
 * npm run bench:gateway — throughput and end-to-end latency of the Global Token Revocation path.
 *
 * Runs the real gateway, session-terminator and refresh-token-revoker against a fresh database and
 * fresh Kafka topics, with a fake Okta on 127.0.0.1, and measures:
 *   A  gateway throughput: accepted (204) logouts/s with BENCH_CONNECTIONS keep-alive connections,
 *      one distinct pre-signed token for a distinct user per request;
 *   B  the same load against a bare Node http server that only verifies the JWT (the baseline);
 *   C  at a fixed rate (BENCH_RATE/s for BENCH_RATE_SECONDS s, fresh users), the time from each 204
 *      to "every session and refresh token of the user revoked" (logout_requests.created_at, the
 *      accepting transaction, to completed_at, set when both consumers have finished).
 * Prints the figures against the targets (ratio >= 0.5; p99 204 -> fully revoked < 500 ms at
 * 500/s). Exits 0 when a target is missed (it says MISSED), non-zero only when the run fails.
 *
 * Environment (defaults keep a run under about 3 minutes):
 *   BENCH_USERS                requests (and users) of phases A and B          5000
 *   BENCH_CONNECTIONS          connections of phases A and B                     32
 *   BENCH_WARMUP               warm-up requests per server before measuring      200
 *   BENCH_RATE                 phase C rate, logouts/s                          500
 *   BENCH_RATE_SECONDS         phase C duration; it seeds RATE x SECONDS users    10
 *   BENCH_COMPLETION_TIMEOUT_S phase C: later than this counts as not completed   30
 *   BENCH_DRAIN_TIMEOUT_S      wait for phase A's backlog before phase C           60
 *   BENCH_MAX_SECONDS          the whole run; beyond it the bench stops, exit 1  900
 *   BENCH_CPU_PROFILE=1        V8 CPU profiles of the three apps during phase A, summarised in the
 *                              report (files kept in the log directory)
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { BENCH_CONNECTION, GTR_PATH, intFromEnv, pad, padL, repoRoot, runBench, say, startAppStack } from './bench-run';
import { readProfile } from './cpu-profile';
import { BenchIdp, BenchSubject, SignedRequest } from './fake-idp';
import { providerUserIdOf, REFRESH_TOKENS_PER_USER, seedUsers, SESSIONS_PER_USER, userIdOf } from './database';
import { LoadFigures, pacedRun, PacedFigures, percentile, throughputRun } from './load';
import { cpuBetween, cpuSnapshot, CpuGroups, CpuUse, defaultGroups, freePort, logTail, sleep, startNode, waitForHttp } from './processes';

const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 500;
const TARGET_ACCEPTED_PER_SECOND = 1400;
const TARGET_CPU_MS_PER_LOGOUT = 1.5;
/** The apps under test; the two consumers complete each logout. */
const APPS = ['gateway', 'session-terminator', 'refresh-token-revoker'];

/**
 * The outbox is written and deleted at the rate of logouts; without vacuum every relay poll reads
 * all the dead index entries left so far. Vacuuming between phases makes each phase start from the
 * same state whether or not the server runs autovacuum.
 */
async function vacuum(db: Client): Promise<void> {
  await db.query('VACUUM (ANALYZE) outbox, logout_requests, seen_jtis, sessions, refresh_tokens, session_clients');
}

/** Scans of the outbox's primary key (the relays' polls and deletes) and the index entries they read. */
async function outboxPolls(db: Client): Promise<{ scans: number; read: number }> {
  const { rows } = await db.query(
    `SELECT idx_scan::float8 AS scans, idx_tup_read::float8 AS read FROM pg_stat_user_indexes WHERE indexrelname = 'outbox_pkey'`,
  );
  return (rows[0] as { scans: number; read: number } | undefined) ?? { scans: 0, read: 0 };
}

/** Transactions committed and statements run on the bench database so far (pg_stat_database, pg_stat_user_tables). */
async function databaseWork(db: Client, dbName: string): Promise<{ commits: number; rowsWritten: number }> {
  const { rows } = await db.query(
    `SELECT (SELECT xact_commit::float8 FROM pg_stat_database WHERE datname = $1) AS commits,
            (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::float8 FROM pg_stat_user_tables) AS rows_written`,
    [dbName],
  );
  return { commits: rows[0].commits as number, rowsWritten: rows[0].rows_written as number };
}

const pollsBetween = (a: { scans: number; read: number }, b: { scans: number; read: number }) =>
  `${b.scans - a.scans} outbox index scans (relay polls and deletes), ${((b.read - a.read) / Math.max(1, b.scans - a.scans)).toFixed(0)} entries read per scan`;

function subjects(group: string, count: number): BenchSubject[] {
  return Array.from({ length: count }, (_, i) => ({ userId: userIdOf(group, i + 1), providerUserId: providerUserIdOf(group, i + 1) }));
}

async function signTimed(idp: BenchIdp, audience: string, list: BenchSubject[], label: string): Promise<SignedRequest[]> {
  const started = performance.now();
  const batch = await idp.signBatch(audience, list);
  say(`signed ${batch.length} tokens for ${label} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return batch;
}

interface GroupProgress {
  total: number;
  pending: number;
}

async function groupProgress(db: Client, group: string): Promise<GroupProgress> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE completed_at IS NULL)::int AS pending
     FROM logout_requests WHERE user_ids[1] LIKE $1`,
    [`bench|${group}|%`],
  );
  return rows[0] as GroupProgress;
}

/** Polls until every logout request of the group has completed, or the deadline (epoch ms) passes. */
async function waitForCompletion(db: Client, group: string, deadline: number): Promise<GroupProgress> {
  for (;;) {
    const progress = await groupProgress(db, group);
    if (progress.pending === 0 || Date.now() >= deadline) return progress;
    await sleep(200);
  }
}

/** Sessions and refresh tokens of the group's users that have a logout request, and how many are still active. */
async function revocationCheck(db: Client, userIds: string[]) {
  const { rows } = await db.query(
    `SELECT (SELECT count(*) FROM sessions WHERE user_id = ANY($1::text[]))::int AS sessions,
            (SELECT count(*) FROM sessions WHERE user_id = ANY($1::text[]) AND revoked_at IS NULL)::int AS active_sessions,
            (SELECT count(*) FROM refresh_tokens WHERE user_id = ANY($1::text[]))::int AS tokens,
            (SELECT count(*) FROM refresh_tokens WHERE user_id = ANY($1::text[]) AND revoked_at IS NULL)::int AS active_tokens`,
    [userIds],
  );
  return rows[0] as { sessions: number; active_sessions: number; tokens: number; active_tokens: number };
}

interface RevocationTimes {
  accepted: number;
  completedInTime: number;
  notCompleted: number;
  missingRequest: number;
  dbP50: number;
  dbP99: number;
  dbMax: number;
  clientP50: number;
  clientP99: number;
}

async function revocationTimes(db: Client, group: string, figures: PacedFigures, timeoutMs: number): Promise<RevocationTimes> {
  const { rows } = await db.query(
    `SELECT user_ids[1] AS user_id,
            (extract(epoch FROM created_at) * 1000)::float8 AS created_ms,
            (extract(epoch FROM completed_at) * 1000)::float8 AS completed_ms
     FROM logout_requests WHERE user_ids[1] LIKE $1`,
    [`bench|${group}|%`],
  );
  const byUser = new Map<string, { created_ms: number; completed_ms: number | null }>();
  for (const r of rows) byUser.set(r.user_id, r);
  const db_: number[] = [];
  const client: number[] = [];
  let missingRequest = 0;
  for (const o of figures.outcomes) {
    if (o.status !== 204) continue;
    const r = byUser.get(o.userId);
    if (!r) {
      missingRequest++;
      db_.push(Infinity);
      client.push(Infinity);
      continue;
    }
    const inTime = r.completed_ms !== null && r.completed_ms - r.created_ms <= timeoutMs;
    db_.push(inTime ? (r.completed_ms as number) - r.created_ms : Infinity);
    client.push(inTime ? (r.completed_ms as number) - (o.answeredAt as number) : Infinity);
  }
  db_.sort((a, b) => a - b);
  client.sort((a, b) => a - b);
  const notCompleted = db_.filter((v) => v === Infinity).length;
  return {
    accepted: db_.length,
    completedInTime: db_.length - notCompleted,
    notCompleted,
    missingRequest,
    dbP50: percentile(db_, 0.5),
    dbP99: percentile(db_, 0.99),
    dbMax: db_.length ? db_[db_.length - 1] : NaN,
    clientP50: percentile(client, 0.5),
    clientP99: percentile(client, 0.99),
  };
}

const ms = (v: number) => (Number.isNaN(v) ? 'n/a' : v === Infinity ? 'never (timeout)' : `${v.toFixed(1)} ms`);

function loadRow(label: string, f: LoadFigures): string {
  return (
    pad(label, 34) +
    padL(f.sent, 7) +
    padL(f.accepted, 7) +
    padL(f.non204, 8) +
    padL(f.errors, 7) +
    padL(f.seconds.toFixed(2), 8) +
    padL(f.acceptedPerSecond.toFixed(1), 12) +
    padL(Number(f.p50Ms).toFixed(1), 9) +
    padL(Number(f.p99Ms).toFixed(1), 9)
  );
}

function otherStatuses(f: LoadFigures): string {
  const other = Object.entries(f.statuses).filter(([code]) => code !== '204');
  return other.length ? other.map(([code, n]) => `${code}: ${n}`).join(', ') : 'none';
}

async function main(): Promise<number> {
  const root = repoRoot('bench:gateway');
  const cfg = {
    users: intFromEnv('BENCH_USERS', 5000),
    connections: intFromEnv('BENCH_CONNECTIONS', 32),
    warmup: intFromEnv('BENCH_WARMUP', 200),
    rate: intFromEnv('BENCH_RATE', 500),
    rateSeconds: intFromEnv('BENCH_RATE_SECONDS', 10),
    completionTimeoutS: intFromEnv('BENCH_COMPLETION_TIMEOUT_S', 30),
    drainTimeoutS: intFromEnv('BENCH_DRAIN_TIMEOUT_S', 60),
    cpuProfile: process.env.BENCH_CPU_PROFILE === '1',
  };
  const rateUsers = cfg.rate * cfg.rateSeconds;
  const loadBefore = loadavg()[0];

  // 1-2. Services, a fresh database and fresh topics, the real apps, the okta connection trusting the fake IdP.
  const { runId, logDir, dbName, idp, gatewayUrl, gateway, children, profileDir, db } = await startAppStack({
    root,
    apps: APPS,
    publicBaseUrl: 'own',
    env: { GTR_RATE_LIMIT_PER_SECOND: '100000', GTR_RATE_LIMIT_BURST: '100000' },
    profile: cfg.cpuProfile ? APPS : [],
  });
  const barePort = await freePort();
  const bareUrl = `http://127.0.0.1:${barePort}`;
  const bare = startNode(
    root,
    'bare-gtr-server',
    'scripts/bench/bare-gtr-server',
    {
      ...process.env,
      BENCH_BARE_PORT: String(barePort),
      BENCH_JWKS: JSON.stringify(idp.jwks),
      BENCH_ISSUER: idp.issuer,
      BENCH_CLIENT_ID: idp.clientId,
      BENCH_PATH: GTR_PATH,
    },
    logDir,
  );
  children.push(bare);
  await waitForHttp(`${bareUrl}/health`, bare, 30_000);
  say(`baseline on ${bareUrl}`);

  // 3. Users, their identities, sessions and refresh tokens, straight into PostgreSQL.
  const autovacuum = ((await db.query('SHOW autovacuum')).rows[0] as { autovacuum: string }).autovacuum;
  const seedStarted = performance.now();
  const seeded = await seedUsers(
    db,
    [
      { group: 'w', count: cfg.warmup },
      { group: 'a', count: cfg.users },
      { group: 'c', count: rateUsers },
    ],
    { name: BENCH_CONNECTION, issuer: idp.issuer },
  );
  say(
    `seeded ${seeded} users (${seeded * SESSIONS_PER_USER} sessions, ${seeded * REFRESH_TOKENS_PER_USER} refresh tokens) in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`,
  );

  const gatewayAudience = `${gatewayUrl}${GTR_PATH}`;
  const bareAudience = `${bareUrl}${GTR_PATH}`;
  const warmConnections = Math.min(8, cfg.connections);

  // Warm-up: the first request fetches the IdP's keys; both servers get JIT-warm before measuring.
  const warmGateway = await throughputRun(
    gatewayUrl,
    GTR_PATH,
    await signTimed(idp, gatewayAudience, subjects('w', cfg.warmup), 'the gateway warm-up'),
    warmConnections,
    60,
  );
  if (warmGateway.accepted === 0) {
    throw new Error(`the gateway accepted none of ${warmGateway.sent} warm-up requests (${otherStatuses(warmGateway)}):\n${logTail(gateway)}`);
  }
  const warmDone = await waitForCompletion(db, 'w', Date.now() + 60_000);
  if (warmDone.pending > 0) say(`warning: ${warmDone.pending} of ${warmDone.total} warm-up logouts still incomplete after 60 s`);
  await throughputRun(bareUrl, GTR_PATH, await signTimed(idp, bareAudience, subjects('w', cfg.warmup), 'the baseline warm-up'), warmConnections, 60);

  await vacuum(db);
  const groups: CpuGroups = defaultGroups(children, dbName);
  const cpu: Record<string, CpuUse[]> = {};

  // 5A. Gateway throughput.
  const batchA = await signTimed(idp, gatewayAudience, subjects('a', cfg.users), 'phase A');
  say(`phase A: ${batchA.length} requests, ${cfg.connections} connections, against the gateway`);
  if (profileDir) writeFileSync(join(profileDir, 'start'), '');
  let snap = cpuSnapshot(groups);
  const pollsA0 = await outboxPolls(db);
  const workA0 = await databaseWork(db, dbName);
  const phaseA = await throughputRun(gatewayUrl, GTR_PATH, batchA, cfg.connections, 300);
  const lastAnswerA = Date.now();
  const drained = await waitForCompletion(db, 'a', lastAnswerA + cfg.drainTimeoutS * 1000);
  const drainSeconds = (Date.now() - lastAnswerA) / 1000;
  cpu.A = cpuBetween(snap, cpuSnapshot(groups));
  const pollsA = pollsBetween(pollsA0, await outboxPolls(db));
  // pg_stat counters are sent by each backend when it goes idle: a moment later they are all in.
  await sleep(1000);
  const workA = await databaseWork(db, dbName);
  const profiles: { app: string; file: string; lines: string[] }[] = [];
  if (profileDir) {
    writeFileSync(join(profileDir, 'stop'), '');
    for (const app of APPS) profiles.push({ app, file: join(profileDir, `${app}.cpuprofile`), lines: await readProfile(profileDir, app) });
  }
  const { rows: pipeRows } = await db.query(
    `SELECT count(completed_at)::int AS completed,
            extract(epoch FROM max(completed_at) - min(created_at))::float8 AS seconds
     FROM logout_requests WHERE user_ids[1] LIKE 'bench|a|%'`,
  );
  const pipelineA = pipeRows[0] as { completed: number; seconds: number | null };
  const { rows: usersA } = await db.query(`SELECT user_ids[1] AS u FROM logout_requests WHERE user_ids[1] LIKE 'bench|a|%'`);
  const checkA = await revocationCheck(db, usersA.map((r) => r.u as string));
  say(`phase A: ${phaseA.accepted} accepted; backlog ${drained.pending === 0 ? 'drained' : `NOT drained (${drained.pending} pending)`} ${drainSeconds.toFixed(1)} s after the last answer`);

  // 5B. The bare baseline, same load, fresh tokens.
  const batchB = await signTimed(idp, bareAudience, subjects('a', cfg.users), 'phase B');
  say(`phase B: ${batchB.length} requests, ${cfg.connections} connections, against the bare jose server`);
  snap = cpuSnapshot(groups);
  const phaseB = await throughputRun(bareUrl, GTR_PATH, batchB, cfg.connections, 300);
  cpu.B = cpuBetween(snap, cpuSnapshot(groups));

  // 6C. Fixed rate, fresh users: 204 -> fully revoked.
  await vacuum(db);
  const batchC = await signTimed(idp, gatewayAudience, subjects('c', rateUsers), 'phase C');
  say(`phase C: ${cfg.rate}/s for ${cfg.rateSeconds} s against the gateway`);
  snap = cpuSnapshot(groups);
  const pollsC0 = await outboxPolls(db);
  const phaseC = await pacedRun(gatewayUrl, GTR_PATH, batchC, cfg.rate, 256, cfg.rateSeconds * 3 + 30);
  const lastAnswerC = Math.max(Date.now() - 1, ...phaseC.outcomes.map((o) => o.answeredAt ?? 0));
  const doneC = await waitForCompletion(db, 'c', lastAnswerC + cfg.completionTimeoutS * 1000);
  cpu.C = cpuBetween(snap, cpuSnapshot(groups));
  const pollsC = pollsBetween(pollsC0, await outboxPolls(db));
  const timesC = await revocationTimes(db, 'c', phaseC, cfg.completionTimeoutS * 1000);
  const acceptedUsersC = phaseC.outcomes.filter((o) => o.status === 204).map((o) => o.userId);
  const checkC = await revocationCheck(db, acceptedUsersC);

  // 7. The report.
  const ratio = phaseA.acceptedPerSecond / phaseB.acceptedPerSecond;
  const out: string[] = [];
  out.push('');
  out.push(`Gateway benchmark (run ${runId}; ${cpus().length} CPUs; everything on 127.0.0.1: apps, PostgreSQL, Kafka, load)`);
  out.push(
    `load average before the run ${loadBefore.toFixed(2)}, after ${loadavg()[0].toFixed(2)}; ` +
      `A/B: ${cfg.users} requests each, C: ${rateUsers} fresh users; 2 sessions + 2 refresh tokens per user`,
  );
  out.push(`PostgreSQL autovacuum is ${autovacuum}; the bench database is vacuumed before phases A and C`);
  out.push('');
  out.push(
    pad('phase', 34) + padL('sent', 7) + padL('204', 7) + padL('non-204', 8) + padL('errors', 7) + padL('secs', 8) + padL('accepted/s', 12) + padL('p50 ms', 9) + padL('p99 ms', 9),
  );
  out.push(loadRow(`A gateway, ${cfg.connections} connections`, phaseA));
  out.push(loadRow(`B bare http + jose, ${cfg.connections} conns`, phaseB));
  out.push(loadRow(`C gateway, paced ${cfg.rate}/s`, phaseC));
  out.push(`  non-204 answers: A ${otherStatuses(phaseA)}; B ${otherStatuses(phaseB)}; C ${otherStatuses(phaseC)}`);
  out.push(`  throughput ratio gateway/bare: ${phaseA.acceptedPerSecond.toFixed(1)} / ${phaseB.acceptedPerSecond.toFixed(1)} = ${ratio.toFixed(3)}`);
  out.push('');
  out.push(
    `Phase A pipeline: ${pipelineA.completed} of ${usersA.length} logouts fully revoked; first acceptance -> last completion ` +
      `${(pipelineA.seconds ?? NaN).toFixed(2)} s (${(pipelineA.completed / (pipelineA.seconds ?? NaN)).toFixed(1)}/s); ` +
      `backlog ${drained.pending === 0 ? 'drained' : `NOT drained, ${drained.pending} pending`} ${drainSeconds.toFixed(1)} s after the last 204`,
  );
  out.push(
    `  still active: ${checkA.active_sessions} of ${checkA.sessions} sessions, ${checkA.active_tokens} of ${checkA.tokens} refresh tokens`,
  );
  out.push(`  outbox: ${pollsA}`);
  out.push(
    `  PostgreSQL: ${((workA.commits - workA0.commits) / Math.max(1, phaseA.accepted)).toFixed(2)} commits and ` +
      `${((workA.rowsWritten - workA0.rowsWritten) / Math.max(1, phaseA.accepted)).toFixed(1)} rows written per logout`,
  );
  out.push('');
  out.push(
    `Phase C (${phaseC.sent} sent at ${cfg.rate}/s${phaseC.unsent ? `, ${phaseC.unsent} not sent in time` : ''}; ${timesC.accepted} accepted):`,
  );
  const keptUp = phaseC.acceptedPerSecond >= 0.95 * cfg.rate;
  if (!keptUp) {
    out.push(
      `  NOTE: offered ${cfg.rate}/s, accepted ${phaseC.acceptedPerSecond.toFixed(1)}/s: the rest queued at the client ` +
        `(request p50 ${phaseC.p50Ms.toFixed(0)} ms), so these figures are for the pipeline saturated, not at ${cfg.rate}/s`,
    );
  }
  out.push(
    `  204 -> fully revoked (logout_requests.created_at -> completed_at): p50 ${ms(timesC.dbP50)}, p99 ${ms(timesC.dbP99)}, max ${ms(timesC.dbMax)}`,
  );
  out.push(`  204 seen by the client -> fully revoked:                     p50 ${ms(timesC.clientP50)}, p99 ${ms(timesC.clientP99)}`);
  out.push(
    `  not completed within ${cfg.completionTimeoutS} s: ${timesC.notCompleted}` +
      (timesC.missingRequest ? ` (${timesC.missingRequest} accepted without a logout_requests row!)` : '') +
      `; still pending at the end: ${doneC.pending}`,
  );
  out.push(`  outbox: ${pollsC}`);
  const verifiedC = checkC.active_sessions === 0 && checkC.active_tokens === 0 && checkC.sessions > 0;
  out.push(
    `  verified by query: ${checkC.active_sessions} of ${checkC.sessions} sessions and ${checkC.active_tokens} of ${checkC.tokens} refresh tokens ` +
      `of the ${acceptedUsersC.length} users still active -> ${verifiedC ? 'all revoked' : 'NOT all revoked'}`,
  );
  out.push('');
  out.push('CPU per process: % of one core over the phase, and CPU ms per accepted (204) request');
  out.push('(A: load + its backlog drain; B: load; C: sending + completion)');
  out.push(pad('process', 32) + padL('A %', 7) + padL('B %', 7) + padL('C %', 7) + padL('A ms/req', 10) + padL('B ms/req', 10) + padL('C ms/req', 10));
  const acceptedIn: Record<string, number> = { A: phaseA.accepted, B: phaseB.accepted, C: phaseC.accepted };
  for (const { label } of cpu.A) {
    const of = (phase: string) => cpu[phase].find((c) => c.label === label);
    const pct = (phase: string) => (of(phase)?.percent ?? 0).toFixed(0);
    const perReq = (phase: string) => ((of(phase)?.cpuMs ?? 0) / Math.max(1, acceptedIn[phase])).toFixed(2);
    out.push(
      pad(label, 32) + padL(pct('A'), 7) + padL(pct('B'), 7) + padL(pct('C'), 7) + padL(perReq('A'), 10) + padL(perReq('B'), 10) + padL(perReq('C'), 10),
    );
  }
  for (const { app, file, lines } of profiles) {
    out.push('');
    out.push(`CPU profile of ${app}, phase A and its backlog (${file}): ${lines[0]}`);
    out.push(...lines.slice(1));
  }
  out.push('');
  const ratioMet = ratio >= TARGET_RATIO;
  const machineA = cpu.A.find((c) => c.label === 'machine (all processes)');
  const driverA = cpu.A.find((c) => c.label === 'bench driver');
  // The pipeline's CPU: every process but the load generator.
  const cpuPerLogout = ((machineA?.cpuMs ?? NaN) - (driverA?.cpuMs ?? 0)) / Math.max(1, phaseA.accepted);
  const acceptedMet = phaseA.acceptedPerSecond >= TARGET_ACCEPTED_PER_SECOND;
  const cpuMet = cpuPerLogout <= TARGET_CPU_MS_PER_LOGOUT;
  const p99Met = timesC.dbP99 < TARGET_P99_MS && timesC.accepted > 0 && keptUp;
  out.push('Targets');
  out.push(
    `  durable accepted logouts/s >= ${TARGET_ACCEPTED_PER_SECOND}, ${cfg.connections} connections    ${pad(phaseA.acceptedPerSecond.toFixed(0), 12)} ${acceptedMet ? 'MET' : 'MISSED'}`,
  );
  out.push(
    `  CPU ms per logout, all processes but the load <= ${TARGET_CPU_MS_PER_LOGOUT}   ${pad(cpuPerLogout.toFixed(2), 12)} ${cpuMet ? 'MET' : 'MISSED'}`,
  );
  out.push(`  throughput gateway/bare >= ${TARGET_RATIO}                          ${pad(ratio.toFixed(3), 12)} ${ratioMet ? 'MET' : 'MISSED'}`);
  out.push(
    `  p99 204 -> fully revoked < ${TARGET_P99_MS} ms at ${cfg.rate} logouts/s       ${pad(ms(timesC.dbP99), 12)} ${p99Met ? 'MET' : 'MISSED'}` +
      (keptUp ? '' : ` (only ${phaseC.acceptedPerSecond.toFixed(0)}/s accepted)`) +
      (cfg.rate !== 500 ? ' (the target is stated for 500/s)' : ''),
  );
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

runBench(main);
