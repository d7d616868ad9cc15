/**
 * npm run bench:logs — SPEC §5: 100,000 log events through the log-streamer to one JSONARRAY
 * webhook and one kafka stream. Prints events/s persisted and delivered, and the latency of a
 * page deep in the log through GET /api/v2/logs (with and without filters), with its plan.
 *
 * Runs the gateway and the log-streamer as processes (compiled: the npm script builds first)
 * against the PostgreSQL and Kafka of DATABASE_URL / KAFKA_BROKERS, in a database and topic
 * prefix of its own, both removed at the end. BENCH_LOG_EVENTS changes the event count;
 * BENCH_MAX_SECONDS (default 900) bounds the whole run; BENCH_CPU_PROFILE=1 records a V8 CPU
 * profile of the log-streamer from the first event published to the last delivered, summarised
 * after the rates. Progress lines go to stderr, the figures to stdout.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { LogEventType, Topics, prefixed } from '@ulo/contracts';
import { buildLogEvent } from '@ulo/messaging';
import { migrate } from '@ulo/persistence';
import { intFromEnv, repoRoot, runBench, say, undo } from './bench-run';
import { readProfile, profilerEnv } from './cpu-profile';
import { createDatabase, databaseUrl, dropDatabase } from './database';
import { percentile } from './load';
import { BenchChild, deleteKafkaArtifacts, freePort, sleep, startNode, stopChild, waitForHttp } from './processes';

const TOKEN = 'bench-logs-token';
/** The figures, on stdout; progress goes to stderr (say). */
const print = (line: string) => process.stdout.write(`${line}\n`);

/** SPEC §5's types in a plausible mix: mostly refresh tokens revoked. */
const MIX: [LogEventType, number][] = [
  ['srrt', 0.8],
  ['universal_logout_succeeded', 0.05],
  ['universal_logout_failed', 0.05],
  ['oidc_backchannel_logout_succeeded', 0.08],
  ['oidc_backchannel_logout_failed', 0.02],
];
function typeOf(n: number): LogEventType {
  let r = (n * 0.6180339887) % 1;
  for (const [type, share] of MIX) if ((r -= share) < 0) return type;
  return 'srrt';
}

/** What the webhook has counted: distinct envelopes and all envelopes received. */
interface WebhookCount {
  distinct: number;
  received: number;
}

/** The webhook (log-webhook.worker), in a thread of its own. */
async function startWebhook(): Promise<{ url: string; count: () => Promise<WebhookCount>; close: () => Promise<void> }> {
  const worker = new Worker(join(__dirname, 'log-webhook.worker.js'));
  const next = (kind: string) =>
    new Promise<Record<string, number>>((resolve, reject) => {
      const onMessage = (m: { kind: string } & Record<string, number>) => {
        if (m.kind !== kind) return;
        worker.off('message', onMessage);
        worker.off('error', reject);
        resolve(m);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  const { port } = await next('listening');
  return {
    url: `http://127.0.0.1:${port}/logs`,
    count: async () => {
      const answer = next('count');
      worker.postMessage({ kind: 'count' });
      const { distinct, received } = await answer;
      return { distinct, received };
    },
    close: async () => {
      const closed = next('closed');
      worker.postMessage({ kind: 'close' });
      await closed;
      await worker.terminate();
    },
  };
}

async function until<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, what: string): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (done(await probe())) return Date.now();
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function main(): Promise<number> {
  const root = repoRoot('bench:logs');
  const EVENTS = intFromEnv('BENCH_LOG_EVENTS', 100_000);
  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/universal_logout';
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const dbName = `ulo_bench_logs_${runId}`;
  const dbUrl = databaseUrl(baseUrl, dbName);
  const prefix = `bench.logs.${runId}.`;
  const logDir = mkdtempSync(join(tmpdir(), `ulo-bench-logs-${runId}-`));
  const children: BenchChild[] = [];
  const kafka = new Kafka({ clientId: 'bench-logs', brokers, logLevel: logLevel.NOTHING });
  say(`run ${runId}: ${EVENTS} events; database ${dbName}, topic prefix ${prefix}, child logs in ${logDir}`);
  // Undone last-in first-out: the apps stop, the database goes, then the webhook and the topics.
  undo.push({ what: `deleting the ${prefix}* topics`, step: () => deleteKafkaArtifacts(kafka, prefix, [`${prefix}log-streamer`]) });
  const webhook = await startWebhook();
  undo.push({ what: 'closing the webhook', step: () => webhook.close() });

  await createDatabase(baseUrl, dbName);
  undo.push({ what: `dropping database ${dbName}`, step: () => dropDatabase(baseUrl, dbName) });
  const db = new Client({ connectionString: dbUrl });
  // Dropping the database at the end ends this session too.
  db.on('error', () => undefined);
  undo.push({ what: 'closing the database client', step: () => db.end() });
  undo.push({
    what: 'stopping the apps',
    step: async () => {
      for (const c of [...children].reverse()) await stopChild(c, 5000);
    },
  });
  await migrate(dbUrl);
  await db.connect();
  const gatewayPort = await freePort();
  const env = {
    ...process.env,
    DATABASE_URL: dbUrl,
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    MANAGEMENT_API_TOKENS: TOKEN,
    ALLOW_PRIVATE_NETWORK_URLS: 'true',
    LOG_LEVEL: 'warn',
    // The gateway signs back-channel logout tokens: it will not start without one.
    SIGNING_KEY_ENCRYPTION_SECRET: process.env.SIGNING_KEY_ENCRYPTION_SECRET ?? 'bench-logs-key-encryption-secret',
    // The kafka stream's topic, under this run's prefix (deleted with it), created by the log-streamer.
    LOG_STREAM_KAFKA_TOPIC_PREFIX: `${prefix}out.`,
    LOG_STREAM_KAFKA_CREATE_TOPICS: 'true',
  };
  const gateway = startNode(root, 'gateway', 'apps/gateway/src/main', { ...env, PORT: String(gatewayPort) }, logDir);
  children.push(gateway);
  const api = `http://127.0.0.1:${gatewayPort}`;
  await waitForHttp(`${api}/health`, gateway, 60_000);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>;
  };
  const outTopic = `${prefix}out.downstream`;
  const http = await call('POST', '/api/v2/log-streams', { name: 'webhook', type: 'http', sink: { httpEndpoint: webhook.url, httpContentFormat: 'JSONARRAY' } });
  const kafkaStream = await call('POST', '/api/v2/log-streams', { name: 'downstream', type: 'kafka', sink: { topic: outTopic } });
  // Both streams also carry the gateway's sapi events of their creation (logged before each 201).
  const count = async (sql: string) => Number((await db.query(sql)).rows[0].n);
  const expected = EVENTS + (await count(`SELECT count(*) AS n FROM log_events WHERE type IN ('sapi', 'fapi')`));

  const metricsPort = await freePort();
  const profileDir = process.env.BENCH_CPU_PROFILE === '1' ? join(logDir, 'profiles') : null;
  if (profileDir) mkdirSync(profileDir);
  const streamer = startNode(
    root,
    'log-streamer',
    'apps/log-streamer/src/main',
    { ...env, LOG_STREAMER_METRICS_PORT: String(metricsPort), ...(profileDir ? profilerEnv(root, profileDir, 'log-streamer') : {}) },
    logDir,
  );
  children.push(streamer);
  await waitForHttp(`http://127.0.0.1:${metricsPort}/health`, streamer, 60_000);

  // Published as the producers would, but not stored: the log-streamer stores every one.
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  if (profileDir) writeFileSync(join(profileDir, 'start'), '');
  const started = Date.now();
  const deepLogIds: string[] = [];
  for (let i = 0; i < EVENTS; i += 1000) {
    const events = Array.from({ length: Math.min(1000, EVENTS - i) }, (_, j) => {
      const n = i + j;
      return buildLogEvent({
        type: typeOf(n),
        description: 'bench',
        user_id: `auth0|bench${n % 5000}`,
        connection: `conn-${n % 10}`,
        client_id: `app-${n % 50}`,
        details: { n },
      });
    });
    if (i === Math.floor((EVENTS * 0.9) / 1000) * 1000) deepLogIds.push(events[0].log_id);
    await producer.send({
      topic: prefixed(prefix, Topics.logEvents),
      acks: -1,
      messages: events.map((e) => ({ key: e.log_id, value: JSON.stringify(e) })),
    });
  }
  await producer.disconnect();
  const published = Date.now();
  say(`published ${EVENTS} events to ${prefix}log-events in ${((published - started) / 1000).toFixed(1)} s`);

  const admin = kafka.admin();
  await admin.connect();
  const onTopic = async () => {
    try {
      return (await admin.fetchTopicOffsets(outTopic)).reduce((s, p) => s + Number(p.high), 0);
    } catch {
      return 0;
    }
  };
  const timeout = Math.max(300_000, EVENTS * 10);
  // Counting the store is a scan of every stored event: it is done only once the log-streamer's
  // own count (ulo_log_events_persisted_total, both paths) says all are in, so that the probe does
  // not take from PostgreSQL the time it measures.
  const reported = async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    return [...text.matchAll(/^ulo_log_events_persisted_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  };
  const stored = async () => ((await reported()) >= expected ? count('SELECT count(*) AS n FROM log_events') : 0);
  const [persistedAt, webhookAt, kafkaAt] = await Promise.all([
    until(stored, (n) => n >= expected, timeout, 'the store'),
    until(async () => (await webhook.count()).distinct, (n) => n >= expected, timeout, 'the webhook'),
    until(onTopic, (n) => n >= expected, timeout, 'the kafka stream'),
  ]);
  if (profileDir) writeFileSync(join(profileDir, 'stop'), '');
  const kafkaDuplicates = (await onTopic()) - expected;
  await admin.disconnect();
  const rate = (at: number) => `${Math.round(EVENTS / ((at - started) / 1000))} events/s (${((at - started) / 1000).toFixed(1)} s)`;
  print(`persisted by the log-streamer: ${rate(persistedAt)}`);
  const hooked = await webhook.count();
  print(`delivered to the JSONARRAY webhook: ${rate(webhookAt)}; ${hooked.received - hooked.distinct} duplicate(s)`);
  print(`delivered to the kafka stream: ${rate(kafkaAt)}; ${kafkaDuplicates} duplicate(s)`);
  if (profileDir) {
    print(`CPU profile of the log-streamer, first event published -> last delivered (${join(profileDir, 'log-streamer.cpuprofile')}):`);
    for (const line of await readProfile(profileDir, 'log-streamer', 12)) print(`  ${line}`);
  }
  for (const s of [http, kafkaStream]) {
    const view = await call('GET', `/api/v2/log-streams/${s.id}`);
    print(`  ${view.name}: status ${view.status}, delivered ${view.health.delivered}, lag ${view.health.lag}, failures ${view.health.consecutive_failures}`);
  }

  // Query latency, deep in the log (after 90 % of it), through the gateway.
  await db.query('ANALYZE log_events');
  const deep = deepLogIds[0];
  const [{ date: deepDate }] = (await db.query('SELECT date FROM log_events WHERE log_id = $1', [deep])).rows as { date: Date }[];
  const queries: [string, string][] = [
    ['no filter', `from=${deep}`],
    ['type=universal_logout_failed', `from=${deep}&type=universal_logout_failed`],
    ['user_id', `from=${deep}&user_id=${encodeURIComponent('auth0|bench4321')}`],
    ['connection', `from=${deep}&connection=conn-3`],
    ['client_id', `from=${deep}&client_id=app-7`],
    ['from_date', `from_date=${deepDate.toISOString()}`],
    ['to_date, cursor past the range', `from=${deep}&to_date=${new Date(deepDate.getTime() - 60_000).toISOString()}`],
  ];
  print(`GET /api/v2/logs?take=100, a page deep in ${EVENTS} events (200 calls each):`);
  for (const [label, query] of queries) {
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < 200; i++) {
      const t = process.hrtime.bigint();
      rows = (await call('GET', `/api/v2/logs?take=100&${query}`)).logs.length;
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    times.sort((a, b) => a - b);
    print(`  ${label.padEnd(32)} ${String(rows).padStart(3)} rows  p50 ${percentile(times, 0.5).toFixed(1)} ms  p95 ${percentile(times, 0.95).toFixed(1)} ms  max ${times[times.length - 1].toFixed(1)} ms`);
  }
  const plan = await db.query(
    `EXPLAIN (ANALYZE, COSTS OFF) SELECT log_id, data FROM log_events WHERE log_id > $1 AND type = 'universal_logout_failed' ORDER BY log_id LIMIT 101`,
    [deep],
  );
  print(`plan of the type query:\n${plan.rows.map((r: Record<string, string>) => `  ${r['QUERY PLAN']}`).join('\n')}`);
  return 0;
}

runBench(main);
