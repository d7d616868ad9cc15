/**
 * npm run bench:backchannel — OIDC Back-Channel Logout fan-out: one Global Token Revocation for a
 * user with many sessions, each at every one of many applications (SPEC §4), in four scenarios of
 * the applications' token settings, each on a fresh user.
 *
 * Runs the real gateway, session-terminator, refresh-token-revoker and backchannel-dispatcher as
 * child processes on a fresh database and fresh Kafka topics, with a fake Okta and BENCH_APPS local
 * receiver apps on 127.0.0.1 (one node:http server each, in this process), registered as clients
 * through the Management API with a back-channel logout URL and initiators mode `all`; before each
 * scenario every client's oidc_logout is set through PATCH /api/v2/clients/{client_id} (and read
 * back from PostgreSQL) unless it already holds the scenario's settings.
 *   warm-up  a small user (BENCH_WARMUP_SESSIONS sessions × every app, RS256), not measured;
 *   run 1    RS256 with sid: every app RS256 with backchannel_logout_session_required true (the
 *            product's defaults, as the clients were created); a user with BENCH_SESSIONS
 *            sessions × BENCH_APPS apps: one signed revocation → 204, then the time from the 204 to
 *            the last delivery received, deliveries/s and per-app p50/p99 of (arrival − 204); every
 *            (session, client) must arrive exactly once, with a token carrying sub and that sid;
 *   run 2    ES256 with sid: the same with every app switched to ES256;
 *   run 3    sub-only: every app with backchannel_logout_session_required false (algorithm
 *            BENCH_SUB_ONLY_ALG, ES256 by default); a Universal Logout ends all of the user's
 *            sessions, so each app must receive exactly one token, with sub = the user and no sid
 *            (the unit is the client; a token with a sid counts as unexpected);
 *   run 4    RS256 with sid again (every app back to RS256, session required) while one app
 *            (BENCH_HANG_APP) never answers: the same figures for the healthy apps, and their
 *            pooled p99 against run 1's over the same apps. Last, so that the hanging app's
 *            retries delay and disturb no other run.
 * After the last expected delivery of a run the bench waits until the user has nothing pending at
 * the healthy apps and a further second, so that late duplicates are counted too. Every arrival's
 * header alg is checked against the scenario's; samples (3 per app) are verified with jose against
 * the gateway's JWKS, accepting the scenario's algorithm only.
 * Targets (204 -> last delivery, BENCH_SESSIONS × BENCH_APPS at full size: 1000 × 20):
 *   run 1 ≤ 15 s; run 2 ≤ 3 s; run 3 ≤ 0.5 s; run 4 healthy-app p99 ≤ 1.2 × run 1's.
 * A scenario is MET when its target is met and its deliveries were exactly once and verified.
 * Exits 0 when a target is missed (it says MISSED), non-zero only when the run fails.
 *
 * Environment:
 *   BENCH_APPS                 receiver apps (clients)                                   20
 *   BENCH_SESSIONS             sessions of each measured user                          1000
 *   BENCH_WARMUP_SESSIONS      sessions of the warm-up user                              20
 *   BENCH_HANG_APP             which app hangs in run 4 (1-based)                BENCH_APPS
 *   BENCH_SUB_ONLY_ALG         signing algorithm of run 3 (RS256, ES256, EdDSA)       ES256
 *   BENCH_DELIVERY_TIMEOUT_S   per run: deliveries later than this count as missing     120
 *   BENCH_MAX_SECONDS          the whole run; beyond it the bench stops, exit 1         900
 *   BENCH_CPU_PROFILE=n        V8 CPU profile of the dispatcher during run n (1-4; 0 or unset: none), summarised
 *   BENCH_ANALYZE_DELIVERIES=0 what-if: never VACUUM/ANALYZE backchannel_deliveries between runs
 *                              (by default it is analyzed while quiet, as autovacuum would leave it)
 *   BACKCHANNEL_* (and DATABASE_POOL_SIZE) set in the environment are passed to the apps and
 *   printed in the report; unset, the product's defaults apply.
 */
import { generateKeyPairSync, KeyObject, randomBytes, scryptSync, sign, SignKeyObjectInput } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { Client } from 'pg';
import type { z } from 'zod';
import { backchannelDispatcherEnv } from '@ulo/config';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '@ulo/contracts';
import {
  ActivityReport,
  ActivitySampler,
  BackchannelUser,
  backchannelUser,
  clientsWithSettings,
  explainClaim,
  parkLeftovers,
  pendingFor,
  plannerView,
  runTimeline,
  tableScans,
  RunTimeline,
  seedBackchannelUser,
  waitForQuiet,
} from './backchannel-database';
import { Arrival, BackchannelReceivers } from './backchannel-receivers';
import { BENCH_CONNECTION, GTR_PATH, intFromEnv, managementApi, pad, padL, repoRoot, run, runBench, say, startAppStack, undo } from './bench-run';
import { readProfile } from './cpu-profile';
import { BenchIdp } from './fake-idp';
import { percentile } from './load';
import { BenchChild, cpuBetween, cpuSnapshot, CpuGroups, CpuUse, defaultGroups, isRunning, logTail, sleep } from './processes';

/** 204 -> last delivery, per scenario. */
const TARGET_RS256_SID_MS = 15_000;
const TARGET_ES256_SID_MS = 3000;
const TARGET_SUB_ONLY_MS = 500;
/** Run 4's healthy-app p99 against run 1's over the same apps. */
const TARGET_P99_RATIO = 1.2;
/** After a run's last expected delivery: how long to wait for late (duplicate) POSTs. */
const LATE_GRACE_MS = 1000;
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** The apps under test; all but the gateway are Kafka consumers. */
const APPS = ['gateway', 'session-terminator', 'refresh-token-revoker', 'backchannel-dispatcher'];
/** The dispatcher's settings in the product's own schema (libs/config), which holds their defaults. */
const dispatcherSettings = backchannelDispatcherEnv.pick({
  BACKCHANNEL_CONCURRENCY: true,
  BACKCHANNEL_CONCURRENCY_PER_CLIENT: true,
  BACKCHANNEL_POLL_INTERVAL_MS: true,
  BACKCHANNEL_TIMEOUT_MS: true,
  BACKCHANNEL_RETRY_BASE_MS: true,
  DATABASE_POOL_SIZE: true,
});
type DispatcherSettings = z.output<typeof dispatcherSettings>;
/** The product's defaults, shown next to any override. */
const DISPATCHER_DEFAULTS: Record<string, string> = Object.fromEntries(
  Object.entries(dispatcherSettings.parse({})).map(([k, v]) => [k, String(v)]),
);

const epochNow = () => performance.timeOrigin + performance.now();
const clientIdOf = (app: number) => `bench-rp-${String(app + 1).padStart(2, '0')}`;

type ScenarioKind = 'rs256' | 'es256' | 'sub' | 'hang';

/** One measured run: the clients' token settings, the user it revokes, what it must achieve. */
interface Scenario {
  kind: ScenarioKind;
  /** `run <n>`, 1-based, the order the runs are made in. */
  label: string;
  title: string;
  alg: SigningAlgorithm;
  /** backchannel_logout_session_required: true, a token per session with sid; false, one sub-only token per client. */
  sessionRequired: boolean;
  hangApp: number | null;
  /** Target of 204 -> last delivery; null: run 4, judged by its p99 against run 1's. */
  targetLastMs: number | null;
  user: BackchannelUser;
  /** How the clients came to hold the settings (set before the run). */
  settingsNote?: string;
}

interface AppFigures {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

interface VerifyFigures {
  checked: number;
  passed: number;
  problems: string[];
  /** The kids the verified tokens named. */
  kids: string[];
}

interface RunResult {
  scenario: Scenario;
  label: string;
  user: BackchannelUser;
  hangApp: number | null;
  healthy: number[];
  /** Epoch ms at which the 204 was read, and how long the request took. */
  t204: number;
  requestMs: number;
  expected: number;
  delivered: number;
  missing: number;
  duplicates: number;
  /** sid runs: tokens with no sid or one not of the user; sub-only: tokens carrying a sid. */
  unexpected: number;
  wrongAudience: number;
  wrongSubject: number;
  /** Tokens (at healthy apps) whose header alg is not the scenario's. */
  wrongAlg: number;
  duplicateJtis: number;
  hangingCalls: number;
  firstMs: number;
  lastMs: number;
  perApp: (AppFigures | null)[];
  /** Per app, (first arrival − 204) of every expected unit, ascending; Infinity for one never received. */
  latencies: number[][];
  healthyP50: number;
  healthyP99: number;
  /** Arrivals per bucket of `bucketMs` after the 204. */
  perBucket: number[];
  bucketMs: number;
  verify: VerifyFigures;
  timeline: RunTimeline;
  /** How the run started: the planner's view of the deliveries table, leftovers set aside. */
  before: string[];
  claimPlan: string[];
  /** Reads of signing_keys during the run: each is a key-cache miss somewhere (mostly the dispatcher). */
  keyReads: number;
  cpu: CpuUse[];
  activity: ActivityReport;
  windowMs: number;
}

interface Context {
  cfg: { apps: number; sessions: number; deliveryTimeoutS: number; dispatcher: DispatcherSettings };
  receivers: BackchannelReceivers;
  db: Client;
  sampleDb: Client;
  dbName: string;
  idp: BenchIdp;
  gatewayUrl: string;
  children: BenchChild[];
  groups: CpuGroups;
  clientIds: string[];
}

/** What one arrival counts as: the key of its unit (session × app, or app for sub-only), or null when it is none of the user's units. */
type UnitOf = (a: Arrival) => string | null;

function unitsOf(scenario: Pick<Scenario, 'sessionRequired' | 'user'>): UnitOf {
  if (!scenario.sessionRequired) return (a) => (a.sid === null ? String(a.app) : null);
  const sessions = new Set(scenario.user.sessionIds);
  return (a) => (a.sid !== null && sessions.has(a.sid) ? `${a.app}\u0000${a.sid}` : null);
}

/** The oidc_logout object of a client (PATCH replaces the whole of it). */
const oidcLogout = (url: string, alg: SigningAlgorithm, sessionRequired: boolean) => ({
  backchannel_logout_urls: [url],
  backchannel_logout_initiators: { mode: 'all' },
  backchannel_logout_signing_alg: alg,
  backchannel_logout_session_required: sessionRequired,
});

/**
 * Gives every client the scenario's algorithm and session_required through the Management API,
 * unless PostgreSQL (where the dispatcher reads them) shows they already have them; says which.
 */
async function applySettings(ctx: Context, scenario: Scenario): Promise<string> {
  const { clientIds, receivers, db, gatewayUrl } = ctx;
  const what = `backchannel_logout_signing_alg ${scenario.alg}, backchannel_logout_session_required ${scenario.sessionRequired}`;
  const already = await clientsWithSettings(db, clientIds, scenario.alg, scenario.sessionRequired);
  if (already === clientIds.length) return `all ${clientIds.length} clients already had ${what}`;
  for (let i = 0; i < clientIds.length; i++) {
    const res = await managementApi(gatewayUrl, 'PATCH', `/api/v2/clients/${clientIds[i]}`, {
      oidc_logout: oidcLogout(receivers.urls[i], scenario.alg, scenario.sessionRequired),
    });
    if (res.status !== 200) throw new Error(`PATCH /api/v2/clients/${clientIds[i]} answered ${res.status}: ${res.text}`);
  }
  const now = await clientsWithSettings(db, clientIds, scenario.alg, scenario.sessionRequired);
  if (now !== clientIds.length) throw new Error(`${scenario.label}: after PATCH only ${now} of ${clientIds.length} clients have ${what}`);
  return `PATCH /api/v2/clients/{client_id} gave all ${clientIds.length} clients ${what}`;
}

/** Sends one signed Global Token Revocation for the user; returns when the 204 was read. */
async function revoke(ctx: Context, user: BackchannelUser): Promise<{ t204: number; requestMs: number }> {
  const token = await ctx.idp.sign(`${ctx.gatewayUrl}${GTR_PATH}`);
  const body = JSON.stringify({ sub_id: { format: 'iss_sub', iss: ctx.idp.issuer, sub: user.providerUserId } });
  const sent = epochNow();
  const res = await fetch(`${ctx.gatewayUrl}${GTR_PATH}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  const t204 = epochNow();
  const text = await res.text();
  if (res.status !== 204) throw new Error(`the revocation for ${user.userId} answered ${res.status}: ${text}`);
  return { t204, requestMs: t204 - sent };
}

/**
 * Waits (bounded by the deadline) until every expected unit of the user at a healthy app has
 * arrived at least once; reads the receivers' arrivals incrementally.
 */
async function waitForDeliveries(ctx: Context, user: BackchannelUser, healthy: Set<number>, expected: number, unitOf: UnitOf, deadline: number): Promise<void> {
  const seen = new Set<string>();
  const dispatcher = ctx.children.find((c) => c.name === 'backchannel-dispatcher')!;
  let cursor = 0;
  for (;;) {
    const arrivals = ctx.receivers.arrivals;
    for (; cursor < arrivals.length; cursor++) {
      const a = arrivals[cursor];
      if (a.sub !== user.userId || !healthy.has(a.app)) continue;
      const unit = unitOf(a);
      if (unit !== null) seen.add(unit);
    }
    if (seen.size >= expected || epochNow() >= deadline) return;
    if (!isRunning(dispatcher)) throw new Error(`the dispatcher exited (code ${dispatcher.proc.exitCode}):\n${logTail(dispatcher)}`);
    await sleep(20);
  }
}

/**
 * After the last expected delivery: waits (bounded) until the user has nothing pending at the
 * healthy apps, then a grace period, so that a late duplicate or extra token is counted.
 */
async function waitForLateArrivals(ctx: Context, user: BackchannelUser, healthyClients: string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await pendingFor(ctx.db, user.userId, healthyClients)) > 0 && Date.now() < deadline) await sleep(100);
  await sleep(LATE_GRACE_MS);
}

/**
 * Verifies the kept token samples with jose against the gateway's JWKS, accepting the scenario's
 * algorithm only, with the SPEC §4 claim checks: a sid of the user's sessions, or for sub-only none.
 */
async function verifySamples(ctx: Context, samples: Arrival[], scenario: Scenario): Promise<VerifyFigures> {
  const { user } = scenario;
  const jwks = createRemoteJWKSet(new URL(`${ctx.gatewayUrl}/.well-known/jwks.json`));
  const sessions = new Set(user.sessionIds);
  const kids = new Set<string>();
  const out: VerifyFigures = { checked: 0, passed: 0, problems: [], kids: [] };
  for (const s of samples) {
    out.checked++;
    const problems: string[] = [];
    try {
      const { payload, protectedHeader } = await jwtVerify(s.token!, jwks, {
        issuer: `${ctx.gatewayUrl}/`,
        audience: clientIdOf(s.app),
        typ: 'logout+jwt',
        algorithms: [scenario.alg],
        // Checked at the moment it arrived: a long run must not fail samples for expiring afterwards.
        currentDate: new Date(s.at),
      });
      if (protectedHeader.alg !== scenario.alg) problems.push(`alg ${protectedHeader.alg}`);
      if (!protectedHeader.kid) problems.push('no kid');
      else kids.add(protectedHeader.kid);
      if (payload.sub !== user.userId) problems.push(`sub ${payload.sub}`);
      if (scenario.sessionRequired) {
        if (!sessions.has(payload.sid as string)) problems.push(`sid ${String(payload.sid)} is not one of the user's sessions`);
      } else if ('sid' in payload) {
        problems.push(`a sub-only token carries sid ${String(payload.sid)}`);
      }
      if (!payload.jti) problems.push('no jti');
      if ('nonce' in payload) problems.push('has a nonce');
      if (typeof payload.iat !== 'number' || typeof payload.exp !== 'number' || payload.exp - payload.iat > 120) problems.push('exp - iat > 120');
      const events = payload.events as Record<string, unknown> | undefined;
      if (!events || typeof events[BACKCHANNEL_EVENT] !== 'object') problems.push('no back-channel logout event');
    } catch (err) {
      let header = '?';
      try {
        const h = decodeProtectedHeader(s.token!);
        header = `alg ${h.alg ?? '?'}, kid ${h.kid ?? '?'}`;
      } catch {
        // not even a JWT header
      }
      problems.push(`${(err as Error).message} (${header})`);
    }
    if (problems.length === 0) out.passed++;
    else if (out.problems.length < 5) out.problems.push(`${clientIdOf(s.app)}: ${problems.join('; ')}`);
  }
  out.kids = [...kids];
  return out;
}

async function measuredRun(ctx: Context, scenario: Scenario, profileDir: string | null, before: string[]): Promise<RunResult> {
  const { apps, sessions } = ctx.cfg;
  const { label, user, hangApp } = scenario;
  const healthy = Array.from({ length: apps }, (_, i) => i).filter((i) => i !== hangApp);
  const healthySet = new Set(healthy);
  const healthyClients = healthy.map(clientIdOf);
  // sid: every (session, healthy app); sub-only: every healthy app, once.
  const perAppExpected = scenario.sessionRequired ? sessions : 1;
  const expected = healthy.length * perAppExpected;
  const unitOf = unitsOf(scenario);
  ctx.receivers.reset();
  for (let i = 0; i < apps; i++) ctx.receivers.setMode(i, i === hangApp ? 'hang' : 'ok');

  say(
    `${label} (${scenario.title}): revoking ${user.userId} (${sessions} sessions × ${apps} apps, ${expected} deliveries expected` +
      `${hangApp === null ? '' : `, ${clientIdOf(hangApp)} hanging`})`,
  );
  const sampler = new ActivitySampler(ctx.sampleDb, ctx.dbName, 20, ctx.cfg.deliveryTimeoutS * 1000 + 10_000);
  if (profileDir) writeFileSync(join(profileDir, 'start'), '');
  const keyReadsBefore = await tableScans(ctx.db, 'signing_keys');
  const cpuStart = cpuSnapshot(ctx.groups);
  sampler.start();
  const { t204, requestMs } = await revoke(ctx, user);
  await waitForDeliveries(ctx, user, healthySet, expected, unitOf, t204 + ctx.cfg.deliveryTimeoutS * 1000);
  const windowEnd = epochNow();
  const activity = await sampler.stop();
  const cpu = cpuBetween(cpuStart, cpuSnapshot(ctx.groups));
  if (profileDir) writeFileSync(join(profileDir, 'stop'), '');
  await waitForLateArrivals(ctx, user, healthyClients);

  // Exactly once per unit: first arrivals give the latencies, later ones are duplicates.
  const arrivals = ctx.receivers.arrivalsFor(user.userId);
  const first = new Map<string, Arrival>();
  let duplicates = 0;
  let unexpected = 0;
  let wrongAudience = 0;
  let wrongAlg = 0;
  let hangingCalls = 0;
  const jtis = new Set<string>();
  let duplicateJtis = 0;
  for (const a of arrivals) {
    if (a.jti) {
      if (jtis.has(a.jti)) duplicateJtis++;
      jtis.add(a.jti);
    }
    if (!healthySet.has(a.app)) {
      hangingCalls++;
      continue;
    }
    if (a.aud !== clientIdOf(a.app)) wrongAudience++;
    if (a.alg !== scenario.alg) wrongAlg++;
    const unit = unitOf(a);
    if (unit === null) {
      unexpected++;
      continue;
    }
    if (first.has(unit)) duplicates++;
    else first.set(unit, a);
  }
  // Tokens whose sub is not the user's never show up in arrivalsFor; count them separately.
  const wrongSubject = ctx.receivers.arrivals.filter((a) => a.sub !== user.userId).length;
  const byApp: number[][] = Array.from({ length: apps }, () => []);
  for (const a of first.values()) byApp[a.app].push(a.at - t204);
  const all: number[] = [];
  const latencies: number[][] = byApp.map(() => []);
  const perApp = byApp.map((list, app) => {
    if (!healthySet.has(app)) return null;
    list.sort((x, y) => x - y);
    // A unit that never arrived counts as never (Infinity) in the percentiles.
    const padded = list.concat(new Array<number>(Math.max(0, perAppExpected - list.length)).fill(Infinity));
    latencies[app] = padded;
    all.push(...padded);
    return { n: list.length, p50: percentile(padded, 0.5), p99: percentile(padded, 0.99), max: padded[padded.length - 1] };
  });
  all.sort((x, y) => x - y);
  const times = [...first.values()].map((a) => a.at - t204);
  const lastMs = first.size === expected ? times.reduce((m, t) => Math.max(m, t), -Infinity) : Infinity;
  const firstMs = times.length ? times.reduce((m, t) => Math.min(m, t), Infinity) : NaN;
  // A sub-only run is over in well under a second: count its arrivals per 100 ms.
  const bucketMs = scenario.sessionRequired ? 1000 : 100;
  const perBucket: number[] = [];
  for (const t of times) {
    const b = Math.max(0, Math.floor(t / bucketMs));
    while (perBucket.length <= b) perBucket.push(0);
    perBucket[b]++;
  }
  const samples = arrivals.filter((a) => a.token && healthySet.has(a.app));
  const verify = await verifySamples(ctx, samples, scenario);
  const timeline = await runTimeline(ctx.db, user.userId, healthyClients, hangApp === null ? [] : [clientIdOf(hangApp)]);
  // Table statistics reach pg_stat_user_tables within a second of each transaction.
  await sleep(1500);
  const keyReads = (await tableScans(ctx.db, 'signing_keys')) - keyReadsBefore;
  const claimPlan = await explainClaim(
    ctx.db,
    activity.claimQuery,
    ctx.cfg.dispatcher.BACKCHANNEL_CONCURRENCY,
    ctx.cfg.dispatcher.BACKCHANNEL_CONCURRENCY_PER_CLIENT,
  );
  say(`${label}: ${first.size} of ${expected} deliveries arrived; last ${Number.isFinite(lastMs) ? `${lastMs.toFixed(0)} ms` : 'never'} after the 204`);
  return {
    scenario,
    label,
    user,
    hangApp,
    healthy,
    t204,
    requestMs,
    expected,
    delivered: first.size,
    missing: expected - first.size,
    duplicates,
    unexpected,
    wrongAudience,
    wrongSubject,
    wrongAlg,
    duplicateJtis,
    hangingCalls,
    firstMs,
    lastMs,
    perApp,
    latencies,
    healthyP50: percentile(all, 0.5),
    healthyP99: percentile(all, 0.99),
    perBucket,
    bucketMs,
    verify,
    timeline,
    before,
    claimPlan,
    keyReads,
    cpu,
    activity,
    windowMs: windowEnd - (t204 - requestMs),
  };
}

/** What stands in the way of "exactly once, as specified" in a run; empty when nothing does. */
function faultsOf(run: RunResult): string[] {
  const faults: string[] = [];
  if (run.missing) faults.push(`${run.missing} missing`);
  if (run.duplicates) faults.push(`${run.duplicates} duplicates`);
  if (run.unexpected) faults.push(`${run.unexpected} ${run.scenario.sessionRequired ? 'with an unknown sid' : 'carrying a sid'}`);
  if (run.wrongAudience) faults.push(`${run.wrongAudience} with a wrong aud`);
  if (run.wrongAlg) faults.push(`${run.wrongAlg} not ${run.scenario.alg}`);
  if (run.duplicateJtis) faults.push(`${run.duplicateJtis} repeated jti`);
  if (run.verify.passed !== run.verify.checked) faults.push(`${run.verify.checked - run.verify.passed} samples failed jose`);
  return faults;
}

/** The signature primitives behind each algorithm, timed here with node:crypto. */
function signMs(privateKey: KeyObject, algorithm: string | null, dsaEncoding?: SignKeyObjectInput['dsaEncoding']): number {
  const data = randomBytes(400);
  const key: SignKeyObjectInput = dsaEncoding ? { key: privateKey, dsaEncoding } : { key: privateKey };
  for (let i = 0; i < 20; i++) sign(algorithm, data, key);
  const t = performance.now();
  for (let i = 0; i < 300; i++) sign(algorithm, data, key);
  return (performance.now() - t) / 300;
}

/**
 * What the CPU-heavy steps of a delivery cost on this machine, measured here with the same
 * primitives: a signature per logout token (RS256 with a 2048-bit key, ES256 with P-256, EdDSA
 * with Ed25519) and scryptSync with Node's defaults (how libs/security decrypts a signing key on
 * every key-cache miss).
 */
function primitiveCosts(): { signMs: Record<SigningAlgorithm, number>; scryptMs: number } {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const ed = generateKeyPairSync('ed25519').privateKey;
  const costs = { RS256: signMs(rsa, 'sha256'), ES256: signMs(ec, 'sha256', 'ieee-p1363'), EdDSA: signMs(ed, null) };
  const t = performance.now();
  for (let i = 0; i < 5; i++) scryptSync('a-bench-secret-of-some-length', randomBytes(16), 32);
  return { signMs: costs, scryptMs: (performance.now() - t) / 5 };
}

/** Latencies of the given apps only, pooled: run 1's figure for the apps that stay healthy in run 4. */
function pooledOver(run: RunResult, apps: number[], q: number): number {
  const pooled = apps.flatMap((a) => run.latencies[a]).sort((x, y) => x - y);
  return percentile(pooled, q);
}

const ms = (v: number) => (Number.isNaN(v) ? 'n/a' : v === Infinity ? 'never' : `${v.toFixed(0)} ms`);
const since = (v: number | null, t: number) => (v === null ? 'n/a' : `${(v - t).toFixed(0)} ms`);

async function main(): Promise<number> {
  const root = repoRoot('bench:backchannel');
  const apps = intFromEnv('BENCH_APPS', 20);
  const subOnlyAlg = (process.env.BENCH_SUB_ONLY_ALG || 'ES256') as SigningAlgorithm;
  if (!SIGNING_ALGORITHMS.includes(subOnlyAlg)) throw new Error(`BENCH_SUB_ONLY_ALG must be one of ${SIGNING_ALGORITHMS.join(', ')}`);
  const profileRun = process.env.BENCH_CPU_PROFILE && process.env.BENCH_CPU_PROFILE !== '0' ? intFromEnv('BENCH_CPU_PROFILE', 1) : null;
  if (profileRun !== null && profileRun > 4) throw new Error('BENCH_CPU_PROFILE must name a run, 1 to 4');
  const cfg = {
    apps,
    sessions: intFromEnv('BENCH_SESSIONS', 1000),
    warmupSessions: intFromEnv('BENCH_WARMUP_SESSIONS', 20),
    hangApp: intFromEnv('BENCH_HANG_APP', apps) - 1,
    deliveryTimeoutS: intFromEnv('BENCH_DELIVERY_TIMEOUT_S', 120),
    analyzeDeliveries: process.env.BENCH_ANALYZE_DELIVERIES !== '0',
    // What the dispatcher runs with (its claim, EXPLAINed by the bench, takes these as parameters).
    dispatcher: dispatcherSettings.parse(
      Object.fromEntries(Object.keys(dispatcherSettings.shape).map((k) => [k, process.env[k] || undefined])),
    ),
  };
  if (cfg.hangApp >= apps) throw new Error(`BENCH_HANG_APP must be between 1 and BENCH_APPS (${apps})`);
  const overrides = Object.keys(DISPATCHER_DEFAULTS)
    .concat(Object.keys(process.env).filter((k) => k.startsWith('BACKCHANNEL_') && !(k in DISPATCHER_DEFAULTS)))
    .filter((k) => process.env[k] !== undefined && process.env[k] !== '');
  const loadBefore = loadavg()[0];
  // Which code was measured: the build compiles the working tree, so say whether it differs from HEAD.
  const head = (await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, env: process.env, timeoutMs: 10_000 }).catch(() => '?')).trim();
  const dirty = (await run('git', ['status', '--porcelain', '--', 'apps', 'libs'], { cwd: root, env: process.env, timeoutMs: 10_000 }).catch(() => ''))
    .split('\n')
    .filter(Boolean).length;
  // Started first, so that they are closed last, after the apps have stopped.
  const receivers = await BackchannelReceivers.start(apps);
  undo.push({ what: 'closing the receivers', step: () => receivers.close() });

  // 1-3. Services, a fresh database and fresh topics, the real apps, the okta connection trusting the
  // fake IdP. Every app names the gateway as PUBLIC_BASE_URL: the dispatcher signs with it as iss.
  const { runId, logDir, dbName, databaseUrl, idp, gatewayUrl, children, profileDir, db } = await startAppStack({
    root,
    tag: 'bc',
    apps: APPS,
    publicBaseUrl: 'gateway',
    profile: profileRun !== null ? ['backchannel-dispatcher'] : [],
  });

  // The receiver apps as clients, through the Management API, with the product's defaults for the
  // token settings (RS256, a token per session): run 1 checks that these are what they are.
  const clientIds = Array.from({ length: apps }, (_, i) => clientIdOf(i));
  for (let i = 0; i < apps; i++) {
    const res = await managementApi(gatewayUrl, 'POST', '/api/v2/clients', {
      client_id: clientIds[i],
      name: `Bench receiver ${i + 1}`,
      oidc_logout: { backchannel_logout_urls: [receivers.urls[i]], backchannel_logout_initiators: { mode: 'all' } },
    });
    if (res.status !== 201) throw new Error(`POST /api/v2/clients (${clientIds[i]}) answered ${res.status}: ${res.text}`);
  }

  // 4. The users: sessions and their clients, straight into PostgreSQL; a fresh one per scenario.
  const sampleDb = new Client({ connectionString: databaseUrl });
  await sampleDb.connect();
  undo.push({ what: 'closing the sampling client', step: () => sampleDb.end() });
  const autovacuum = ((await db.query('SHOW autovacuum')).rows[0] as { autovacuum: string }).autovacuum;
  const syncCommit = ((await db.query('SHOW synchronous_commit')).rows[0] as { synchronous_commit: string }).synchronous_commit;
  const warm = backchannelUser('warm', cfg.warmupSessions);
  const scenarios: Scenario[] = [
    {
      kind: 'rs256',
      label: 'run 1',
      title: 'RS256 with sid',
      alg: 'RS256',
      sessionRequired: true,
      hangApp: null,
      targetLastMs: TARGET_RS256_SID_MS,
      user: backchannelUser('rs256', cfg.sessions),
    },
    {
      kind: 'es256',
      label: 'run 2',
      title: 'ES256 with sid',
      alg: 'ES256',
      sessionRequired: true,
      hangApp: null,
      targetLastMs: TARGET_ES256_SID_MS,
      user: backchannelUser('es256', cfg.sessions),
    },
    {
      kind: 'sub',
      label: 'run 3',
      title: `sub-only (${subOnlyAlg}, no sid)`,
      alg: subOnlyAlg,
      sessionRequired: false,
      hangApp: null,
      targetLastMs: TARGET_SUB_ONLY_MS,
      user: backchannelUser('subonly', cfg.sessions),
    },
    {
      kind: 'hang',
      label: 'run 4',
      title: `RS256 with sid, ${clientIdOf(cfg.hangApp)} hangs`,
      alg: 'RS256',
      sessionRequired: true,
      hangApp: cfg.hangApp,
      targetLastMs: null,
      user: backchannelUser('hang', cfg.sessions),
    },
  ];
  const users = [warm, ...scenarios.map((s) => s.user)];
  const seedStarted = performance.now();
  for (const u of users) await seedBackchannelUser(db, u, clientIds, { name: BENCH_CONNECTION, issuer: idp.issuer });
  await db.query('VACUUM (ANALYZE) users, user_identities, sessions, session_clients');
  const seededSessions = users.reduce((n, u) => n + u.sessionIds.length, 0);
  say(
    `seeded ${users.length} users: ${seededSessions} sessions, ${seededSessions * apps} session_clients rows ` +
      `in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`,
  );

  const ctx: Context = {
    cfg,
    receivers,
    db,
    sampleDb,
    dbName,
    idp,
    gatewayUrl,
    children,
    groups: defaultGroups(children, dbName),
    clientIds,
  };

  // 5. Warm-up: the gateway fetches the IdP's keys, the dispatcher its signing keys and connections.
  const warmExpected = cfg.warmupSessions * apps;
  const { t204: warmT } = await revoke(ctx, warm);
  await waitForDeliveries(ctx, warm, new Set(clientIds.map((_, i) => i)), warmExpected, unitsOf({ sessionRequired: true, user: warm }), warmT + 60_000);
  const warmGot = new Set(receivers.arrivalsFor(warm.userId).map((a) => `${a.app}|${a.sid}`)).size;
  if (warmGot < warmExpected) throw new Error(`warm-up: only ${warmGot} of ${warmExpected} deliveries arrived within 60 s`);
  say(`warm-up: ${warmGot} deliveries in ${(Math.max(...receivers.arrivalsFor(warm.userId).map((a) => a.at)) - warmT).toFixed(0)} ms`);

  // Between runs: let the backlog drain (bounded), set aside what is left, vacuum like the gateway
  // bench does, so that each run starts from the same state.
  const settle = async (what: string): Promise<string[]> => {
    const notes: string[] = [];
    const left = await waitForQuiet(db, clientIds, 60_000);
    if (left.outbox) notes.push(`${left.outbox} outbox rows still unpublished 60 s after the previous phase`);
    if (left.pending) {
      const parked = await parkLeftovers(db, clientIds);
      notes.push(`${left.pending} deliveries of the previous phase still pending after 60 s; the bench parked ${parked} of them (the rest were in flight)`);
      say(`warning: before ${what}: ${notes[notes.length - 1]}`);
    }
    const tables = ['outbox', 'log_events', 'sessions', 'logout_requests'].concat(cfg.analyzeDeliveries ? ['backchannel_deliveries'] : []);
    await db.query(`VACUUM (ANALYZE) ${tables.join(', ')}`);
    notes.push(`planner statistics of backchannel_deliveries: ${await plannerView(db)}`);
    return notes;
  };

  // 6. The runs, in order: each scenario's settings on every client, the backlog settled, the run.
  const runs: RunResult[] = [];
  for (const [i, scenario] of scenarios.entries()) {
    scenario.settingsNote = await applySettings(ctx, scenario);
    say(`${scenario.label}: ${scenario.settingsNote}`);
    const before = await settle(scenario.label);
    runs.push(await measuredRun(ctx, scenario, profileRun === i + 1 ? profileDir : null, before));
  }
  const profileLines = profileDir ? await readProfile(profileDir, 'backchannel-dispatcher', 12) : [];

  // 7. The report. The primitives are timed after the runs, not to disturb them.
  const costs = primitiveCosts();
  const byKind = (kind: ScenarioKind) => runs.find((r) => r.scenario.kind === kind)!;
  const run1 = byKind('rs256');
  const runHang = byKind('hang');
  const healthyHang = runHang.healthy;
  const run1HealthyP99 = pooledOver(run1, healthyHang, 0.99);
  const run1HealthyP50 = pooledOver(run1, healthyHang, 0.5);
  // A ratio only means something when both runs delivered everything; otherwise it is n/a (MISSED).
  const ratioOf = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
  const ratio = ratioOf(runHang.healthyP99, run1HealthyP99);
  const worstAppRatio = Math.max(...healthyHang.map((a) => ratioOf(runHang.perApp[a]?.p99 ?? Infinity, run1.perApp[a]?.p99 ?? Infinity)));

  const out: string[] = [];
  out.push('');
  out.push(`Back-channel logout benchmark (run ${runId}; ${cpus().length} CPUs; everything on 127.0.0.1: apps, receivers, PostgreSQL, Kafka)`);
  out.push(`code: commit ${head}${dirty ? `, with ${dirty} uncommitted file(s) under apps/ and libs/` : ', apps/ and libs/ as committed'}`);
  out.push(
    `load average before ${loadBefore.toFixed(2)}, after ${loadavg()[0].toFixed(2)}; ${apps} receiver apps (node:http in the bench process), ` +
      `${cfg.sessions} sessions per user, each at every app, a fresh user per run; PostgreSQL autovacuum ${autovacuum}, synchronous_commit ${syncCommit}`,
  );
  out.push(
    `dispatcher settings: ` +
      Object.entries(DISPATCHER_DEFAULTS)
        .map(([k, v]) => `${k}=${process.env[k] || v}${process.env[k] ? ' (set for this run)' : ' (default)'}`)
        .join(', ') +
      (overrides.filter((k) => !(k in DISPATCHER_DEFAULTS)).length
        ? `; also set: ${overrides.filter((k) => !(k in DISPATCHER_DEFAULTS)).map((k) => `${k}=${process.env[k]}`).join(', ')}`
        : ''),
  );
  out.push(
    cfg.analyzeDeliveries
      ? 'between phases the bench waits for the backlog (<= 60 s) and runs VACUUM (ANALYZE), backchannel_deliveries included (analyzed while quiet, as autovacuum leaves it)'
      : 'WHAT-IF (BENCH_ANALYZE_DELIVERIES=0): backchannel_deliveries is never vacuumed or analyzed by the bench; the other tables are, between phases',
  );
  out.push(`after each run's last expected delivery the bench waits until the user has nothing pending at the healthy apps, then ${LATE_GRACE_MS} ms, and counts what came late too`);
  out.push('');
  for (const run of runs) {
    const t = run.timeline;
    const s = run.scenario;
    const unit = s.sessionRequired ? '(session, healthy client) pairs' : 'healthy clients (one sub-only token each)';
    out.push(
      `${run.label}: ${s.title}${run.hangApp === null ? ', all apps healthy' : ''}: user ${run.user.userId}, ` +
        `request ${t.requestId ?? '?'} answered 204 in ${run.requestMs.toFixed(0)} ms`,
    );
    out.push(`  clients: ${s.settingsNote ?? '?'}`);
    for (const note of run.before) out.push(`  before the run: ${note}`);
    out.push(
      `  delivered ${run.delivered} of ${run.expected} ${unit}; missing ${run.missing}, duplicates ${run.duplicates}, ` +
        `${s.sessionRequired ? 'no or unknown sid' : 'carrying a sid'} ${run.unexpected}, aud not the receiving client ${run.wrongAudience}, ` +
        `header alg not ${s.alg} ${run.wrongAlg}, repeated jti ${run.duplicateJtis}` +
        (run.wrongSubject ? `; ${run.wrongSubject} POSTs for other users arrived meanwhile (an earlier phase's backlog)` : ''),
    );
    out.push(
      `  jose against the gateway JWKS: ${run.verify.passed} of ${run.verify.checked} sampled tokens verified ` +
        `(iss, aud, typ, only ${s.alg} accepted, kid, sub, ${s.sessionRequired ? 'sid of the user' : 'no sid'}, events, no nonce, exp - iat <= 120); ` +
        `kid${run.verify.kids.length === 1 ? '' : 's'} ${run.verify.kids.join(', ') || 'none'}` +
        (run.verify.problems.length ? `; problems: ${run.verify.problems.join(' | ')}` : ''),
    );
    const rate = run.delivered / Math.max(0.001, (Number.isFinite(run.lastMs) ? run.lastMs : run.windowMs) / 1000);
    const spread = Number.isFinite(run.lastMs) ? run.lastMs - run.firstMs : NaN;
    out.push(
      `  204 -> first delivery ${ms(run.firstMs)}, -> last ${ms(run.lastMs)}; ${rate.toFixed(0)} deliveries/s from the 204, ` +
        (Number.isFinite(spread) ? `${(run.delivered / Math.max(0.001, spread / 1000)).toFixed(0)}/s from first to last arrival` : 'not all arrived'),
    );
    out.push(`  healthy apps pooled: p50 ${ms(run.healthyP50)}, p99 ${ms(run.healthyP99)} after the 204`);
    out.push(`  arrivals per ${run.bucketMs === 1000 ? 'second' : `${run.bucketMs} ms`} after the 204: ${run.perBucket.join(' ')}`);
    out.push(
      `  PostgreSQL timeline (from the 204): request row ${since(t.requestCreatedMs, run.t204)}, ${t.sessionsRevoked} sessions revoked by ${since(t.lastSessionRevokedMs, run.t204)}, ` +
        `${t.deliveries} delivery rows${t.subOnly ? ` (${t.subOnly} sub-only)` : ''} planned ${since(t.firstPlannedMs, run.t204)} .. ${since(t.lastPlannedMs, run.t204)}, ` +
        `last marked succeeded ${since(t.lastSucceededMs, run.t204)}`,
    );
    out.push(
      `  delivery rows by status: ${Object.entries(t.byStatus).map(([st, n]) => `${st} ${n}`).join(', ') || 'none'}; healthy-app rows with more than one attempt: ${t.retriedHealthy}`,
    );
    out.push(
      `  signing_keys read ${run.keyReads} times during the run (each a key-cache refresh: one SELECT of the current keys, and a scryptSync, ~${costs.scryptMs.toFixed(0)} ms, only for a key not decrypted before)`,
    );
    for (const w of t.watched) {
      out.push(
        `  hanging app ${w.clientId}: ${run.hangingCalls} POSTs received (none answered); rows ${Object.entries(w.byStatus).map(([st, n]) => `${st} ${n}`).join(', ')}, ` +
          `${w.attempts} attempts so far; last error: ${w.lastError ?? 'none'}`,
      );
    }
    out.push('');
  }

  // Per app: the runs with a token per session get n/p50/p99/max, a sub-only run its one arrival.
  const num = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? 'n/a' : v === Infinity ? 'never' : v.toFixed(0));
  const r = (run: RunResult) => run.label.replace('run ', 'r');
  out.push(`Per app: (arrival - 204) in ms; ${runHang.label}'s apps other than the hanging one are the healthy ones; ${byKind('sub').label}: the app's one sub-only token`);
  out.push(
    pad('app', 12) +
      runs
        .map((run) =>
          run.scenario.sessionRequired
            ? padL(`${r(run)} n`, 7) + padL(`${r(run)} p50`, 9) + padL(`${r(run)} p99`, 9) + padL(`${r(run)} max`, 9)
            : padL(`${r(run)} at`, 9),
        )
        .join('') +
      padL(`p99 ${r(runHang)}/${r(run1)}`, 11),
  );
  for (let app = 0; app < apps; app++) {
    let line = pad(clientIdOf(app), 12);
    for (const run of runs) {
      const a = run.perApp[app];
      if (!run.scenario.sessionRequired) line += padL(num(a?.max), 9);
      else if (a) line += padL(a.n, 7) + padL(num(a.p50), 9) + padL(num(a.p99), 9) + padL(num(a.max), 9);
      else line += padL(`hanging (${run.hangingCalls} POSTs, none answered)`, run === runHang ? 45 : 34);
    }
    const a = run1.perApp[app];
    const b = runHang.perApp[app];
    if (b) line += padL(a && Number.isFinite(ratioOf(b.p99, a.p99)) ? ratioOf(b.p99, a.p99).toFixed(2) : 'n/a', 11);
    out.push(line);
  }
  out.push('');

  out.push(
    `Costs measured on this machine after the runs: one signature RS256 (2048-bit) ${costs.signMs.RS256.toFixed(3)} ms, ES256 (P-256) ${costs.signMs.ES256.toFixed(3)} ms, ` +
      `EdDSA (Ed25519) ${costs.signMs.EdDSA.toFixed(3)} ms; scryptSync (Node defaults) ${costs.scryptMs.toFixed(1)} ms; the signatures alone take ` +
      runs
        .filter((run) => run.scenario.kind !== 'hang')
        .map((run) => `${((run.expected * costs.signMs[run.scenario.alg]) / 1000).toFixed(run.expected > 1000 ? 1 : 3)} s of one core in ${run.label} (${run.expected} × ${run.scenario.alg})`)
        .join(', '),
  );
  out.push('');
  out.push('CPU per process over each run (204 request to last expected delivery): % of one core, and CPU ms per delivery');
  out.push(pad('process', 34) + runs.map((run) => padL(`${r(run)} %`, 8) + padL(`${r(run)} ms/dlv`, 11)).join(''));
  for (const { label } of run1.cpu) {
    const shown = label === 'bench driver' ? 'bench driver (the receivers)' : label;
    out.push(
      pad(shown, 34) +
        runs
          .map((run) => {
            const c = run.cpu.find((x) => x.label === label);
            return padL((c?.percent ?? 0).toFixed(0), 8) + padL(((c?.cpuMs ?? 0) / Math.max(1, run.delivered)).toFixed(3), 11);
          })
          .join(''),
    );
  }
  out.push('');
  let shownPlan: { label: string; plan: string } | null = null;
  for (const run of runs) {
    const a = run.activity;
    out.push(
      `PostgreSQL backends of the bench database, ${run.label} (pg_stat_activity every ${a.intervalMs} ms, ${a.samples} samples; ` +
        `on average ${a.activeAverage.toFixed(1)} active): average backends per statement and state, top wait of the active ones`,
    );
    for (const row of a.rows.filter((x) => x.average >= 0.05).slice(0, 12)) {
      out.push(`  ${padL(row.average.toFixed(2), 6)}  ${pad(row.state, 20)} ${pad(row.kind, 48)} ${row.topWait}`);
    }
    const plan = run.claimPlan.join('\n');
    if (shownPlan && shownPlan.plan === plan) {
      out.push(`  plan of the dispatcher's claim at the end of ${run.label}: as at the end of ${shownPlan.label}`);
    } else {
      out.push(`  plan of the dispatcher's claim at the end of ${run.label} (EXPLAIN, estimates only):`);
      for (const line of run.claimPlan) out.push(`    ${line}`);
      shownPlan = { label: run.label, plan };
    }
    out.push('');
  }
  if (profileLines.length) {
    out.push(`CPU profile of the backchannel-dispatcher during ${runs[profileRun! - 1].label} (${runs[profileRun! - 1].scenario.title}): ${profileLines[0]}`);
    out.push(...profileLines.slice(1));
    out.push('');
  }

  // The summary: one line per scenario. MET needs the target and exactly-once, verified deliveries.
  out.push(`Summary: ${cfg.sessions} sessions × ${apps} apps, each run on a fresh user; deliveries expected/delivered/duplicates; 204 -> last (healthy) delivery`);
  out.push(`  ${pad('scenario', 40)} ${padL('deliveries exp/dlv/dup', 22)} ${padL('last after 204', 15)}   ${pad('target', 48)} result`);
  for (const run of runs) {
    const s = run.scenario;
    let target: string;
    let met: boolean;
    if (s.targetLastMs !== null) {
      target = `last <= ${s.targetLastMs} ms`;
      met = run.lastMs <= s.targetLastMs;
    } else {
      target = `p99 <= ${TARGET_P99_RATIO}x ${run1.label}: ${Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : 'n/a'} (${ms(runHang.healthyP99)} / ${ms(run1HealthyP99)})`;
      met = Number.isFinite(ratio) && ratio <= TARGET_P99_RATIO;
    }
    const faults = faultsOf(run);
    out.push(
      `  ${pad(`${run.label.replace('run ', '')} ${s.title}`, 40)} ${padL(`${run.expected}/${run.delivered}/${run.duplicates}`, 22)} ${padL(ms(run.lastMs), 15)}   ` +
        `${pad(target, 48)} ${met && faults.length === 0 ? 'MET' : 'MISSED'}${faults.length ? ` (not exactly once: ${faults.join(', ')})` : ''}`,
    );
  }
  out.push(
    `  (${runHang.label}: pooled over the same ${healthyHang.length} apps; ${run1.label} p50 over them ${ms(run1HealthyP50)}, ${runHang.label} ${ms(runHang.healthyP50)}; ` +
      `worst single healthy app p99 ratio ${Number.isFinite(worstAppRatio) ? worstAppRatio.toFixed(2) : 'n/a'}x; ${runHang.label}'s last healthy delivery has no target of its own)`,
  );
  out.push(`child logs: ${logDir}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

runBench(main);
