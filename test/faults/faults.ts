/**
 * npm run test:faults — the fault test of SPEC §8: a 204 is a promise, whatever fails.
 *
 * Starts its own PostgreSQL (a private cluster) and its own three-broker Kafka through
 * scripts/services.sh, runs two gateways and two instances of every consumer app as processes,
 * seeds users through the Management API, and drives a fake Okta that logs each user out once,
 * retrying 5xx, 429 and connection errors with a fresh JWT. While the load runs it SIGKILLs one
 * instance of each consumer app and one gateway (restarting only those), SIGKILLs one Kafka broker,
 * then all three for 15 s, then stops PostgreSQL immediately; each dependency is brought back with
 * `services.sh up`. The apps must survive the outages by themselves. Then it asserts that every
 * logout was accepted and completed exactly once, that every session reached the application's
 * back-channel endpoint, that a control group was untouched and that no app died; it prints the
 * recovery time (target 15 s) and the duplicates and retries the faults caused.
 *
 * Environment:
 *   FAULTS_USERS           users logged out under load                                      300
 *   FAULTS_CONTROL_USERS   users never logged out                                            20
 *   FAULTS_SETTLE_SECONDS  after the last fault, the longest wait for everything to complete 120
 *   FAULTS_MAX_SECONDS     the whole run; beyond it the test fails and cleans up            600
 *                          (a run takes 4 to 7 minutes on two busy cores)
 *   FAULTS_KAFKA_PORT      node 1's broker port; the three nodes use it and the next five 29092
 *                          (below Linux's ephemeral range, 32768-60999: no client socket of the
 *                          tests before can be holding one)
 *   FAULTS_PG_PORT         the private PostgreSQL's port                          any free port
 *   FAULTS_CACHE_DIR       Kafka jars and data (kept)        ~/.cache/universal-logout-faults
 * Logs of every app: .test-logs/faults-<run>/<app>-<n>.log.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Pool } from 'pg';
import { FakeIdp, RpReceiver } from '@ulo/testing';
import { cleanup, intFromEnv, repoRoot, run, undo } from '../../scripts/bench/bench-run';
import { deleteKafkaArtifacts, freePort, sleep } from '../../scripts/bench/processes';
import { deliveries, Deliveries, groupState, GroupState, isComplete, sample, undelivered, Verdicts } from './checks';
import { Fleet, Instance, waitForGroupMembers } from './fleet';
import { LoadTarget, OktaLoad } from './load';
import { SCHEDULE, ScheduleClock } from './schedule';
import { Services } from './services';
import { GTR_PATH, ManagementApi, SeededUser, seedTenant } from './tenant';

const CONSUMERS = ['session-terminator', 'refresh-token-revoker', 'backchannel-dispatcher', 'log-streamer'];
const INSTANCES = 2;
const KAFKA_NODES = 3;
/** The target: everything complete within 15 s of the last fault. */
const TARGET_RECOVERY_S = 15;
const MANAGEMENT_TOKEN = `faults-${randomBytes(8).toString('hex')}`;

const startedAt = Date.now();
const loadAtStart = loadavg()[0];
const elapsed = () => `+${((Date.now() - startedAt) / 1000).toFixed(1)} s`;
const say = (line: string) => process.stderr.write(`faults: ${elapsed()} ${line}\n`);
const out = (line = '') => process.stdout.write(`${line}\n`);
const verdicts = new Verdicts();
/** Set when the run ends early (deadline, Ctrl-C, an error): from then on no fault and no start happens. */
let stopping = false;
const onStop: (() => void)[] = [];

interface Settings {
  users: number;
  controlUsers: number;
  settleSeconds: number;
  maxSeconds: number;
  kafkaPort: number;
  pgPort: number | null;
  cacheDir: string;
}

function settings(): Settings {
  return {
    users: intFromEnv('FAULTS_USERS', 300),
    controlUsers: intFromEnv('FAULTS_CONTROL_USERS', 20),
    settleSeconds: intFromEnv('FAULTS_SETTLE_SECONDS', 120),
    maxSeconds: intFromEnv('FAULTS_MAX_SECONDS', 600),
    kafkaPort: intFromEnv('FAULTS_KAFKA_PORT', 29092),
    pgPort: process.env.FAULTS_PG_PORT ? intFromEnv('FAULTS_PG_PORT', 55433) : null,
    cacheDir: process.env.FAULTS_CACHE_DIR || join(homedir(), '.cache', 'universal-logout-faults'),
  };
}

/** A fault and when it happened, for the timeline printed at the end. */
interface FaultMark {
  atMs: number;
  what: string;
}

/**
 * The users' first requests are spread evenly in schedule time until PostgreSQL is started again:
 * the last ones meet the outage, and none is new once the last fault is over, so the recovery
 * time measures the pipeline and Okta's retries, not the load's own tail.
 */
const LOAD_SECONDS = SCHEDULE.postgres.up;
/** What a supervisor waits before restarting a process that died. */
const SUPERVISOR_DELAY_MS = 1000;

/**
 * The faults, one after another while the load runs. Only the processes killed here are
 * restarted here; the dependencies come back through services.sh. Returns the moment PostgreSQL
 * answered again: the end of the last fault.
 */
async function injectFaults(
  fleet: Fleet,
  services: Services,
  clock: ScheduleClock,
  progress: () => string,
  marks: FaultMark[],
  readyAfter: Map<string, number | null>,
): Promise<number> {
  const mark = (what: string) => {
    marks.push({ atMs: Date.now() - startedAt, what: `${what} [${progress()}]` });
    say(`fault: ${what}`);
  };
  let step = 0;
  const next = (notBefore?: number) => clock.step(step++, notBefore);
  const endOf = ScheduleClock.endOf;
  const crashAndRestart = async (instance: Instance) => {
    mark(`SIGKILL ${instance.name}`);
    await fleet.kill(instance);
    await sleep(SUPERVISOR_DELAY_MS);
    fleet.restart(instance);
    mark(`restarted ${instance.name}`);
    // Measured in the background: the next fault does not wait for it.
    const restartedAt = Date.now();
    readyAfter.set(instance.name, null);
    fleet.waitReady(instance, 600_000).then(
      () => readyAfter.set(instance.name, (Date.now() - restartedAt) / 1000),
      () => undefined,
    );
  };

  for (const app of CONSUMERS) {
    await next();
    await crashAndRestart(fleet.byName(`${app}-1`));
  }
  await next();
  await crashAndRestart(fleet.byName('gateway-2'));

  await next();
  mark(`SIGKILL Kafka node 1 (pid ${await services.killBroker(1)})`);
  await next(endOf(SCHEDULE.oneBroker));
  mark('services.sh up: Kafka node 1 starting');
  await services.up();
  mark('Kafka node 1 back');

  await next();
  const pids = await Promise.all(Array.from({ length: KAFKA_NODES }, (_, i) => services.killBroker(i + 1)));
  mark(`SIGKILL every Kafka node (pids ${pids.join(', ')})`);
  await next(endOf(SCHEDULE.allBrokers));
  mark('services.sh up: Kafka nodes starting');
  await services.up();
  mark('Kafka back');

  await next();
  await services.stopPostgres('immediate');
  mark('PostgreSQL stopped (pg_ctl -m immediate)');
  await next(endOf(SCHEDULE.postgres));
  mark('services.sh up: PostgreSQL starting');
  // The fault ends when PostgreSQL answers, which is before services.sh is done checking the rest.
  let answeredAt: number | null = null;
  let starting = true;
  const watch = (async () => {
    while (starting && answeredAt === null) {
      if (await services.postgresAnswers()) answeredAt = Date.now();
      else await sleep(100);
    }
  })();
  try {
    await services.up();
  } finally {
    starting = false;
    await watch;
  }
  const backAt = answeredAt ?? Date.now();
  marks.push({ atMs: backAt - startedAt, what: 'PostgreSQL answers again: the last fault ends' });
  if (clock.slipSeconds >= 1) say(`the faults ran ${clock.slipSeconds.toFixed(1)} s behind their schedule; the load waited with them`);
  mark('services.sh up done');
  marks.sort((a, b) => a.atMs - b.atMs);
  return backAt;
}

/**
 * Re-announcements of stuck logout requests, from the gateways' sweeper log lines (a request
 * re-announced twice counts twice): the number the line gives, else one per line.
 */
function reannounced(logDir: string): { requests: number; lines: number } {
  let requests = 0;
  let lines = 0;
  for (const file of readdirSync(logDir).filter((f) => /^gateway-\d+\.log$/.test(f))) {
    for (const line of readFileSync(join(logDir, file), 'utf8').split('\n')) {
      if (!/re-?announced/i.test(line)) continue;
      lines++;
      let counted: number | null = null;
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        for (const key of ['count', 'requests', 'reannounced', 'reAnnounced', 'n']) {
          if (typeof entry[key] === 'number') {
            counted = entry[key];
            break;
          }
        }
        if (counted === null && typeof entry.msg === 'string') counted = Number(/re-?announced\D*(\d+)/i.exec(entry.msg)?.[1] ?? NaN);
      } catch {
        counted = Number(/re-?announced\D*(\d+)/i.exec(line)?.[1] ?? NaN);
      }
      requests += Number.isFinite(counted) && counted !== null ? counted : 1;
    }
  }
  return { requests, lines };
}

async function main(cfg: Settings): Promise<void> {
  const root = repoRoot('test:faults');
  const runId = randomBytes(4).toString('hex');
  const logDir = join(root, '.test-logs', `faults-${runId}`);
  say(`run ${runId}: ${cfg.users} users (+${cfg.controlUsers} control) over ${LOAD_SECONDS} s; app logs in ${logDir}`);

  // 1. PostgreSQL and Kafka of this run only.
  const services = new Services({
    root,
    pgPort: cfg.pgPort ?? (await freePort()),
    pgDir: join(tmpdir(), `ulo-faults-pg-${runId}`),
    kafkaPort: cfg.kafkaPort,
    cacheDir: cfg.cacheDir,
    nodes: KAFKA_NODES,
  });
  onStop.push(() => services.refuseStarts());
  await services.checkPortsFree(say);
  undo.push({
    what: 'stopping the private PostgreSQL',
    step: async () => {
      await services.stopPostgres('immediate');
      services.removePgDir();
    },
  });
  undo.push({ what: 'stopping the Kafka nodes', step: () => services.stopKafka() });
  await services.up();
  await services.makeCommitsSurviveAStop();
  await run('node', ['scripts/run-node.js', 'libs/persistence/src/migrate.cli'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: services.databaseUrl },
    timeoutMs: 120_000,
  });
  say(`PostgreSQL ${services.databaseUrl} migrated; Kafka ${services.kafkaBrokers.join(',')}`);

  const db = new Pool({ connectionString: services.databaseUrl, max: 4, connectionTimeoutMillis: 3000 });
  db.on('error', () => undefined); // idle connections die with the database; the pool replaces them
  undo.push({ what: 'closing the database pool', step: () => db.end() });

  const topicPrefix = `faults.${runId}.`;
  const groups = CONSUMERS.map((app) => `${topicPrefix}${app}`);
  const kafka = new Kafka({ clientId: `ulo-faults-${runId}`, brokers: services.kafkaBrokers, logLevel: logLevel.NOTHING });
  undo.push({
    what: `deleting the ${topicPrefix}* topics`,
    step: () => Promise.race([deleteKafkaArtifacts(kafka, topicPrefix, groups), sleep(30_000)]),
  });

  const idp = await FakeIdp.start();
  const receiver = await RpReceiver.start(() => 200);
  undo.push({
    what: 'closing the fake IdP and the receiver',
    step: async () => {
      await receiver.close();
      await idp.close();
    },
  });

  // 2. Every app as its own process: two of each.
  const fleet = new Fleet(root, logDir, startedAt);
  onStop.push(() => fleet.refuseStarts());
  undo.push({ what: 'stopping the apps', step: () => fleet.stopAll() });
  const gatewayUrls: string[] = [];
  for (let i = 0; i < INSTANCES; i++) gatewayUrls.push(`http://127.0.0.1:${await freePort()}`);
  const common: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: services.databaseUrl,
    KAFKA_BROKERS: services.kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: topicPrefix,
    MANAGEMENT_API_TOKENS: MANAGEMENT_TOKEN,
    SIGNING_KEY_ENCRYPTION_SECRET: `faults-signing-secret-${randomBytes(12).toString('hex')}`,
    ALLOW_PRIVATE_NETWORK_URLS: 'true',
    // Both gateways answer for the same URL (as behind a load balancer): a token is valid at either.
    PUBLIC_BASE_URL: gatewayUrls[0],
    LOGOUT_STUCK_AFTER_SECONDS: '10',
    KAFKA_SESSION_TIMEOUT_MS: '10000',
    // The receiver always answers 200: deliveries wait only on the outages, so retry soon after them.
    BACKCHANNEL_RETRY_BASE_MS: '200',
    BACKCHANNEL_RETRY_MAX_DELAY_MS: '2000',
    HEALTH_HOST: '127.0.0.1',
    LOG_STREAMER_METRICS_PORT: '0',
    LOG_LEVEL: 'info',
  };
  gatewayUrls.forEach((url, i) => fleet.start('gateway', i + 1, { ...common, PORT: new URL(url).port }, url));
  for (const app of CONSUMERS) {
    for (let i = 1; i <= INSTANCES; i++) {
      const healthPort = await freePort();
      fleet.start(app, i, { ...common, HEALTH_PORT: String(healthPort) }, `http://127.0.0.1:${healthPort}`);
    }
  }
  await Promise.all(fleet.instances.map((i) => fleet.waitReady(i, 120_000)));
  await waitForGroupMembers(kafka, groups, INSTANCES, fleet, 90_000);
  say(`${fleet.instances.length} apps ready; each consumer group has ${INSTANCES} members`);

  // 3. The tenant, through the Management API.
  const seedStarted = Date.now();
  const apis = gatewayUrls.map((url) => new ManagementApi(url, MANAGEMENT_TOKEN));
  const seeded = await seedTenant(apis, idp, receiver.url, [
    { group: 'u', count: cfg.users },
    { group: 'c', count: cfg.controlUsers },
  ]);
  const users = seeded.get('u')!;
  const control = seeded.get('c')!;
  const seedSeconds = (Date.now() - seedStarted) / 1000;
  say(`seeded ${users.length + control.length} users, each with 2 sessions and a refresh token, in ${seedSeconds.toFixed(1)} s`);

  // 4. The load, and 5. the faults while it runs.
  // Both subject formats Okta sends, alternately: iss_sub and email.
  const subjectOf = (u: SeededUser, i: number): Record<string, string> =>
    i % 2 === 0 ? { format: 'iss_sub', iss: idp.issuer, sub: u.providerUserId } : { format: 'email', email: u.email };
  const targets: LoadTarget[] = users.map((u, i) => ({ userId: u.userId, subject: subjectOf(u, i) }));
  const clock = new ScheduleClock(Date.now(), () => stopping);
  const load = new OktaLoad({
    gateways: gatewayUrls,
    path: GTR_PATH,
    audience: `${gatewayUrls[0]}${GTR_PATH}`,
    idp,
    targets,
    clock: () => clock.now(),
    seconds: LOAD_SECONDS,
    deadline: startedAt + (cfg.maxSeconds - 60) * 1000,
    runStartedAt: startedAt,
  });
  load.start();
  const ticker = setInterval(() => {
    const r = load.retries;
    say(
      `load: 204 for ${load.accepted()}/${users.length} users, ${load.pending()} waiting, ${users.length - load.accepted() - load.pending()} refused or given up; ` +
        `retries 5xx ${r['5xx']}, 429 ${r['429']}, ` +
        `connection ${r.connection}; apps running ${fleet.running()}/${fleet.instances.length}`,
    );
  }, 10_000);
  const marks: FaultMark[] = [];
  const readyAfter = new Map<string, number | null>();
  let lastFaultAt: number;
  try {
    lastFaultAt = await injectFaults(
      fleet,
      services,
      clock,
      () => `${load.accepted()}/${users.length} users accepted, ${load.unsent()} not sent yet`,
      marks,
      readyAfter,
    );
  } finally {
    clearInterval(ticker);
  }

  // 6. Everything complete? Polled until the settle deadline after the last fault.
  const settleDeadline = lastFaultAt + cfg.settleSeconds * 1000;
  let completeAt: number | null = null;
  let state: GroupState | null = null;
  let got: Deliveries = deliveries(receiver);
  while (Date.now() < settleDeadline) {
    if (stopping) throw new Error('the run is stopping');
    got = deliveries(receiver);
    try {
      state = await groupState(db, users);
    } catch (err) {
      say(`database not answering yet: ${(err as Error).message}`);
    }
    const everyUserAccepted = load.accepted() === users.length;
    if (state && load.pending() === 0 && everyUserAccepted && isComplete(users, state, got)) {
      completeAt = Date.now();
      break;
    }
    if (load.pending() === 0 && !everyUserAccepted) break; // nothing more can come: some users were refused or given up
    await sleep(250);
  }
  // The final picture, taken once, after the poll.
  const final = await groupState(db, users);
  got = deliveries(receiver);
  // When each part finished, from the records themselves rather than the poll's tick.
  const loadSids = new Set(users.flatMap((u) => u.sessionIds));
  const finishedAt: [string, number | null][] = [
    ['last 204', load.accepted() ? startedAt + Math.max(...load.outcomes.map((o) => o.acceptedAtMs ?? 0)) : null],
    ['last session revoked', final.lastSessionRevokedAt],
    ['last refresh token revoked', final.lastTokenRevokedAt],
    ['last request completed', final.lastCompletedAt],
    ['last session delivered', Math.max(0, ...[...got.firstBySid.entries()].filter(([sid]) => loadSids.has(sid)).map(([, at]) => at)) || null],
  ];
  const recoverySeconds =
    completeAt === null ? null : Math.max(0, (Math.max(...finishedAt.map(([, at]) => at ?? 0)) - lastFaultAt) / 1000);
  say(completeAt === null ? 'not everything completed' : `everything complete ${recoverySeconds!.toFixed(1)} s after the last fault`);
  const controlState = await groupState(db, control);
  // Readiness is polled a little: an app restarted late in the run may still be joining its group.
  let readiness = await fleet.readiness();
  const readyBy = Date.now() + 30_000;
  while (readiness.some((r) => !r.ready) && Date.now() < readyBy && !stopping) {
    await sleep(500);
    readiness = await fleet.readiness();
  }

  // Assertions, one line each.
  const notAccepted = load.outcomes.filter((o) => o.acceptedAtMs === null);
  verdicts.check(
    'every user of the load got a 204',
    notAccepted.length === 0,
    sample(notAccepted.map((o) => `${o.userId} (${o.refused ? `refused ${o.refused.status}` : (o.gaveUp ?? 'still waiting')}; last: ${describeAttempt(o.attempts.at(-1))})`)),
  );
  const refused = load.outcomes.filter((o) => o.refused);
  verdicts.check(
    'no logout was refused (400, 401, 404, ...: Okta would not retry)',
    refused.length === 0,
    sample(refused.map((o) => `${o.userId}: ${o.refused!.status} ${o.refused!.body}`)),
  );
  verdicts.check('every session of those users is revoked', final.liveSessions.length === 0, `still live: ${sample(final.liveSessions)}`);
  verdicts.check(
    'every refresh token of those users is revoked',
    final.liveRefreshTokens.length === 0,
    `still live: ${sample(final.liveRefreshTokens)}`,
  );
  const withoutRequest = users.filter((u) => ![...final.requests.values()].some((r) => r.userId === u.userId));
  verdicts.check('every user has a logout request', withoutRequest.length === 0, `none for ${sample(withoutRequest.map((u) => u.userId))}`);
  const incomplete = [...final.requests.entries()].filter(([, r]) => !r.completed).map(([id]) => id);
  verdicts.check('every logout request completed', incomplete.length === 0, `incomplete: ${sample(incomplete)}`);
  const missed = undelivered(users, got);
  verdicts.check('every session reached the back-channel endpoint at least once', missed.length === 0, `never delivered: ${sample(missed)}`);
  const wrongCount = [...final.requests.keys()].filter((id) => final.successByRequest.get(id) !== 1);
  const strayEvents = [...final.successByRequest.keys()].filter((id) => !final.requests.has(id));
  verdicts.check(
    'exactly one universal_logout_succeeded per logout request',
    wrongCount.length === 0 && strayEvents.length === 0,
    [
      wrongCount.length ? `requests with another count: ${sample(wrongCount.map((id) => `${id}=${final.successByRequest.get(id) ?? 0}`))}` : '',
      strayEvents.length ? `events naming no request of these users: ${sample(strayEvents)}` : '',
    ]
      .filter(Boolean)
      .join('; '),
  );
  const controlSids = control.flatMap((u) => u.sessionIds);
  const controlDelivered = controlSids.filter((sid) => got.bySid.has(sid)).length + control.filter((u) => got.subs.has(u.userId)).length;
  verdicts.check(
    'the control group is untouched',
    controlState.liveSessions.length === controlSids.length &&
      controlState.liveRefreshTokens.length === control.length &&
      controlState.requests.size === 0 &&
      controlDelivered === 0,
    `live sessions ${controlState.liveSessions.length}/${controlSids.length}, live refresh tokens ` +
      `${controlState.liveRefreshTokens.length}/${control.length}, logout requests ${controlState.requests.size}, back-channel tokens ${controlDelivered}`,
  );
  verdicts.check(
    'no app process exited by itself',
    fleet.unexpectedExits.length === 0,
    fleet.unexpectedExits
      .map((e) => `${e.name} exited at +${(e.atMs / 1000).toFixed(1)} s (code ${e.code}, signal ${e.signal}): ${e.cause} [${e.logFile}]`)
      .join('\n'),
  );
  const notReady = readiness.filter((r) => !r.ready);
  verdicts.check('every app reports ready at the end', notReady.length === 0, notReady.map((r) => `${r.name}: ${r.answer}`).join('; '));
  verdicts.check(
    `everything complete within ${cfg.settleSeconds} s of the last fault`,
    completeAt !== null,
    completeAt === null ? 'see the failures above' : '',
  );

  // 7. Figures.
  const { rows: lastToComplete } = await db.query<{ id: string; created: number; completed: number | null }>(
    `SELECT id, (extract(epoch FROM created_at) * 1000)::float8 AS created, (extract(epoch FROM completed_at) * 1000)::float8 AS completed
     FROM logout_requests WHERE user_ids && $1::text[] ORDER BY completed_at DESC NULLS FIRST LIMIT 3`,
    [users.map((u) => u.userId)],
  );
  const loadDeliveries = [...got.bySid.entries()].filter(([sid]) => loadSids.has(sid));
  const loadTokens = loadDeliveries.reduce((sum, [, n]) => sum + n, 0);
  const deliveredLoadSids = loadDeliveries.length;
  const requestsPerUser = new Map<string, number>();
  for (const r of final.requests.values()) requestsPerUser.set(r.userId, (requestsPerUser.get(r.userId) ?? 0) + 1);
  const repeated = [...requestsPerUser.entries()].filter(([, n]) => n > 1);
  const again = reannounced(logDir);
  const r = load.retries;
  const detail = Object.entries(r.detail)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const attempts = load.outcomes.reduce((sum, o) => sum + o.attempts.length, 0);
  // Every attempt of every user, for a look after the run.
  writeFileSync(join(logDir, 'load.json'), JSON.stringify({ retries: load.retries, outcomes: load.outcomes }, null, 1));

  out();
  out(`Fault test ${runId} (${((Date.now() - startedAt) / 1000).toFixed(0)} s so far; app logs and load.json in ${logDir})`);
  out('Faults:');
  for (const m of marks) out(`  +${(m.atMs / 1000).toFixed(1).padStart(6)} s  ${m.what}`);
  out('Figures:');
  out(
    `  time from the last fault (PostgreSQL back) to everything complete: ${
      recoverySeconds === null ? `not complete within ${cfg.settleSeconds} s` : `${recoverySeconds.toFixed(1)} s`
    } (target ${TARGET_RECOVERY_S} s: ${recoverySeconds !== null && recoverySeconds <= TARGET_RECOVERY_S ? 'MET' : 'MISSED'})`,
  );
  const relative = (at: number | null) => (at === null ? 'never' : `${((at - lastFaultAt) / 1000).toFixed(1)} s`);
  out(`    after the last fault: ${finishedAt.map(([what, at]) => `${what} ${relative(at)}`).join(', ')}`);
  out(`    the last requests to complete (accepted → completed, after the last fault): ${lastToComplete.map((q) => `${q.id} ${relative(q.created)} → ${relative(q.completed)}`).join(', ') || 'none'}`);
  out(`  logout requests: ${users.length} users, ${attempts} attempts, ${final.requests.size} accepted requests`);
  out(`  users with more than one accepted request (a 204 lost with its connection): ${repeated.length}${repeated.length ? ` (${sample(repeated.map(([u, n]) => `${u}×${n}`))})` : ''}`);
  out(`  back-channel deliveries: ${loadTokens} logout tokens for ${loadSids.size} sessions; duplicate deliveries: ${loadTokens - deliveredLoadSids}`);
  out(`  re-announced requests: ${again.requests} (repeats counted; ${again.lines} sweeper log line${again.lines === 1 ? '' : 's'})`);
  out(`  fake Okta retries: 5xx ${r['5xx']}, 429 ${r['429']}, connection errors ${r.connection}${detail ? ` (${detail})` : ''}`);
  out(
    `  restarted apps ready after: ${[...readyAfter.entries()].map(([name, s]) => `${name} ${s === null ? 'never' : `${s.toFixed(1)} s`}`).join(', ')}`,
  );
  out(`  seeding through the Management API: ${seedSeconds.toFixed(1)} s`);
  // Timings stretch on a busy machine: a restarted app's Node start alone can take tens of seconds.
  out(`  load average (1 min) at the start and now: ${loadAtStart.toFixed(1)}, ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs`);
  printVerdicts();
}

let verdictsPrinted = 0;
/** The assertions not printed yet, failures with their detail. */
function printVerdicts(): void {
  const fresh = verdicts.lines.slice(verdictsPrinted);
  verdictsPrinted = verdicts.lines.length;
  if (!fresh.length) return;
  out('Assertions:');
  for (const v of fresh) {
    out(`  ${v.ok ? 'PASS' : 'FAIL'}  ${v.what}`);
    if (!v.ok && v.detail) out(indent(v.detail, '          '));
  }
}

function describeAttempt(a: { status: number | null; error: string | null; gateway: number } | undefined): string {
  if (!a) return 'none';
  return `${a.status ?? a.error} at gateway-${a.gateway + 1}`;
}

function indent(text: string, prefix = '      '): string {
  return text
    .split('\n')
    .map((l) => `${prefix}${l}`)
    .join('\n');
}

/** Cleanup in bounded time: a hung step must not keep the test from ending. */
async function boundedCleanup(): Promise<void> {
  say('cleaning up');
  const began = Date.now();
  const done = await Promise.race([cleanup().then(() => true), sleep(120_000).then(() => false)]);
  say(done ? `cleaned up in ${((Date.now() - began) / 1000).toFixed(1)} s` : 'cleanup did not finish within 120 s; look for processes left running');
}

function finish(code: number): never {
  printVerdicts();
  out(`${verdicts.passed} passed, ${verdicts.failed} failed`);
  process.exit(code || (verdicts.failed > 0 ? 1 : 0));
}

function runFaultTest(): void {
  let cfg: Settings;
  try {
    cfg = settings();
  } catch (err) {
    process.stderr.write(`faults: ${(err as Error).message}\n`);
    process.exit(2);
  }
  let ending = false;
  const end = (why: string | null, code: number) => {
    if (ending) return;
    ending = true;
    stopping = true;
    for (const hook of onStop) hook();
    if (why) {
      say(why);
      verdicts.check('the run finished its steps', false, why);
    }
    void boundedCleanup().then(() => finish(code));
  };
  setTimeout(
    () => end(`the run exceeded FAULTS_MAX_SECONDS=${cfg.maxSeconds} s; stopping (the apps' logs say where it stood)`, 1),
    cfg.maxSeconds * 1000,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => end(`${signal}: stopping`, 130));
  main(cfg).then(
    () => end(null, 0),
    (err: Error) => end(`failed: ${err.stack ?? err.message}`, 1),
  );
}

runFaultTest();
