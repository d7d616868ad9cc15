import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { migrate } from '@ulo/persistence';
import { profilerEnv } from './cpu-profile';
import { createDatabase, databaseUrl, dropDatabase } from './database';
import { BenchIdp } from './fake-idp';
import { BenchChild, deleteKafkaArtifacts, freePort, startNode, stopChild, waitForConsumerGroups, waitForHttp } from './processes';

/**
 * What every benchmark of scripts/bench shares: settings, progress lines, child commands, cleanup,
 * the run itself, and the services-database-Kafka-apps stack the gateway and back-channel benches run on.
 */

export function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer (got ${JSON.stringify(raw)})`);
  return value;
}

export const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** Report columns. */
export const pad = (s: string | number, n: number) => String(s).padEnd(n);
export const padL = (s: string | number, n: number) => String(s).padStart(n);

/** The repository root, seen from the compiled bench (dist/scripts/bench); `script` names the npm script in the error. */
export function repoRoot(script: string): string {
  const root = resolve(__dirname, '..', '..', '..');
  if (!existsSync(join(root, 'package.json')) || !existsSync(join(root, 'scripts', 'run-node.js'))) {
    throw new Error(`cannot find the repository root from ${__dirname}; run it through npm run ${script}`);
  }
  return root;
}

export function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }) {
  return new Promise<string>((resolvePromise, reject) => {
    const child = execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        else resolvePromise(stdout);
      },
    );
    child.stderr?.pipe(process.stderr);
  });
}

/** Undo steps, run last-in first-out once, whether the run succeeds, fails or is interrupted. */
export const undo: { what: string; step: () => Promise<void> }[] = [];
let cleaning: Promise<void> | null = null;
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    while (undo.length) {
      const { what, step } = undo.pop()!;
      try {
        await step();
      } catch (err) {
        say(`cleanup: ${what} failed: ${(err as Error).message}`);
      }
    }
  })();
  return cleaning;
}

/**
 * Runs `main` within BENCH_MAX_SECONDS (`defaultMaxSeconds` when unset), cleaning up on success,
 * failure, timeout and Ctrl-C.
 */
export function runBench(main: () => Promise<number>, defaultMaxSeconds = 900): void {
  const maxSeconds = (() => {
    try {
      return intFromEnv('BENCH_MAX_SECONDS', defaultMaxSeconds);
    } catch {
      return defaultMaxSeconds;
    }
  })();
  const overall = setTimeout(() => {
    say(`the run exceeded BENCH_MAX_SECONDS=${maxSeconds}; stopping`);
    void cleanup().finally(() => process.exit(1));
  }, maxSeconds * 1000);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say(`${signal}: stopping`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  main()
    .then(async (code) => {
      await cleanup();
      clearTimeout(overall);
      process.exit(code);
    })
    .catch(async (err: Error) => {
      say(`failed: ${err.stack ?? err.message}`);
      await cleanup();
      clearTimeout(overall);
      process.exit(1);
    });
}

/** The okta connection startAppStack creates, and the Global Token Revocation path it serves. */
export const BENCH_CONNECTION = 'bench-okta';
export const GTR_PATH = `/oauth/global-token-revocation/connection/${BENCH_CONNECTION}`;

/** A Management API call to the gateway with the bench's token (`bench`). */
export async function managementApi(gatewayUrl: string, method: string, path: string, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${gatewayUrl}${path}`, {
    method,
    headers: { authorization: 'Bearer bench', 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, text: await res.text() };
}

export interface AppStackOptions {
  root: string;
  /** Part of the database and log directory names (`ulo_bench_<tag>_<run>`); none: `ulo_bench_<run>`. */
  tag?: string;
  /** The apps to start (apps/<name>/src/main), the gateway first; each of the others is a Kafka consumer group. */
  apps: string[];
  /** Every app's PUBLIC_BASE_URL: the gateway's URL, or each app its own. */
  publicBaseUrl: 'gateway' | 'own';
  /** Variables added to the environment every app gets. */
  env?: NodeJS.ProcessEnv;
  /** The apps to run under the CPU profiler (cpu-profile.preload); none: no profile directory. */
  profile?: string[];
}

export interface AppStack {
  runId: string;
  logDir: string;
  dbName: string;
  databaseUrl: string;
  idp: BenchIdp;
  kafka: Kafka;
  topicPrefix: string;
  consumerGroups: string[];
  gatewayUrl: string;
  gateway: BenchChild;
  /** The started apps; push any further child here to have it stopped at the end. */
  children: BenchChild[];
  /** Where the profiled apps write <app>.cpuprofile between the start and stop markers; null when none is profiled. */
  profileDir: string | null;
  /** A client of the bench database. */
  db: Client;
}

/**
 * What the gateway and back-channel benches run on: `services.sh up`, a fresh migrated database and
 * fresh Kafka topics, the fake Okta, the real apps (healthy, consumer groups joined), the okta
 * connection trusting the fake IdP (through the Management API) and a database client; each with
 * its undo step.
 */
export async function startAppStack(options: AppStackOptions): Promise<AppStack> {
  const { root, tag, apps } = options;
  const runId = randomBytes(4).toString('hex');
  const logDir = mkdtempSync(join(tmpdir(), `ulo-bench-${tag ? `${tag}-` : ''}${runId}-`));
  say(`run ${runId}; child logs in ${logDir}`);

  // Services, a fresh database and fresh topics.
  const servicesOut = await run('bash', ['scripts/services.sh', 'up'], { cwd: root, env: process.env, timeoutMs: 300_000 });
  const envOf = (key: string) => new RegExp(`^${key}=(.+)$`, 'm').exec(servicesOut)?.[1]?.trim();
  const baseDatabaseUrl = envOf('DATABASE_URL');
  const kafkaBrokers = envOf('KAFKA_BROKERS');
  if (!baseDatabaseUrl || !kafkaBrokers) throw new Error(`services.sh up printed no DATABASE_URL/KAFKA_BROKERS:\n${servicesOut}`);
  const dbName = `ulo_bench_${tag ? `${tag}_` : ''}${runId}`;
  const benchDatabaseUrl = databaseUrl(baseDatabaseUrl, dbName);
  await createDatabase(baseDatabaseUrl, dbName);
  undo.push({ what: `dropping database ${dbName}`, step: () => dropDatabase(baseDatabaseUrl, dbName) });
  await migrate(benchDatabaseUrl);
  say(`database ${dbName} migrated`);

  const idp = await BenchIdp.start();
  undo.push({ what: 'closing the fake IdP', step: () => idp.close() });

  const topicPrefix = `bench.${runId}.`;
  const consumerGroups = apps.filter((app) => app !== 'gateway').map((app) => `${topicPrefix}${app}`);
  const kafka = new Kafka({ clientId: `ulo-bench-${runId}`, brokers: kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
  undo.push({ what: `deleting the ${topicPrefix}* topics`, step: () => deleteKafkaArtifacts(kafka, topicPrefix, consumerGroups) });

  // The real apps.
  const gatewayPort = await freePort();
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const appEnv: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: benchDatabaseUrl,
    KAFKA_BROKERS: kafkaBrokers,
    KAFKA_TOPIC_PREFIX: topicPrefix,
    MANAGEMENT_API_TOKENS: 'bench',
    ALLOW_PRIVATE_NETWORK_URLS: 'true',
    // The gateway creates and serves the back-channel signing keys, encrypted under this secret.
    SIGNING_KEY_ENCRYPTION_SECRET: `bench-signing-secret-${randomBytes(12).toString('hex')}`,
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  const profiled = options.profile ?? [];
  const profileDir = profiled.length ? join(logDir, 'profiles') : null;
  if (profileDir) mkdirSync(profileDir);
  const children: BenchChild[] = [];
  undo.push({
    what: 'stopping the apps',
    step: async () => {
      await Promise.all(children.map((c) => stopChild(c)));
    },
  });
  for (const app of apps) {
    const port = app === 'gateway' ? gatewayPort : await freePort();
    const env: NodeJS.ProcessEnv = {
      ...appEnv,
      PORT: String(port),
      PUBLIC_BASE_URL: options.publicBaseUrl === 'gateway' ? gatewayUrl : `http://127.0.0.1:${port}`,
      ...(profileDir && profiled.includes(app) ? profilerEnv(root, profileDir, app) : {}),
    };
    children.push(startNode(root, app, `apps/${app}/src/main`, env, logDir));
  }
  const gateway = children[apps.indexOf('gateway')];
  await waitForHttp(`${gatewayUrl}/health`, gateway, 90_000);
  await waitForConsumerGroups(kafka, consumerGroups, children, 90_000);
  say(`gateway on ${gatewayUrl}; consumers joined ${consumerGroups.join(', ')}`);

  // The okta connection, trusting the fake IdP.
  const conn = await managementApi(gatewayUrl, 'POST', '/api/v2/connections', {
    name: BENCH_CONNECTION,
    strategy: 'okta',
    options: { issuer: idp.issuer, client_id: idp.clientId },
  });
  if (conn.status !== 201) throw new Error(`POST /api/v2/connections answered ${conn.status}: ${conn.text}`);

  const db = new Client({ connectionString: benchDatabaseUrl });
  await db.connect();
  undo.push({ what: 'closing the database client', step: () => db.end() });

  return {
    runId,
    logDir,
    dbName,
    databaseUrl: benchDatabaseUrl,
    idp,
    kafka,
    topicPrefix,
    consumerGroups,
    gatewayUrl,
    gateway,
    children,
    profileDir,
    db,
  };
}
