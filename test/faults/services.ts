import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { run } from '../../scripts/bench/bench-run';
import { sleep } from '../../scripts/bench/processes';

/** Where the fault test's own PostgreSQL and Kafka live: nothing here is shared with `npm test`. */
export interface ServicesLayout {
  root: string;
  /** Port of the private PostgreSQL cluster. */
  pgPort: number;
  /** Its data directory (created by services.sh, removed at the end). */
  pgDir: string;
  /** Node 1's broker port; node i listens on kafkaPort + 2(i-1), its controller on that + 1. */
  kafkaPort: number;
  /** Kafka jars, data and pid files: kept between runs so the jars are fetched once per machine. */
  cacheDir: string;
  nodes: number;
}

export const DATABASE_NAME = 'ulo_faults';

const isRoot = () => process.getuid?.() === 0;

/** The newest installed PostgreSQL's bin directory, as services.sh picks it. */
function pgBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length) return join(base, versions[0], 'bin');
  // Otherwise pg_ctl is expected on the PATH.
  return '';
}

function execQuiet(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs: number) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(command, args, { cwd, env, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A process id that is gone, or a zombie waiting for a parent that is not us. */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!isGone(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The fault test's PostgreSQL (a private cluster) and three-broker Kafka, driven through
 * scripts/services.sh: `up` starts whatever is not running, so it is also how a killed broker or a
 * stopped database is brought back.
 */
export class Services {
  readonly databaseUrl: string;
  kafkaBrokers: string[] = [];
  /** Set by the first stop: a `services.sh up` may still be starting something, nothing new starts. */
  private closing = false;
  private upInFlight: Promise<string> = Promise.resolve('');

  constructor(private readonly layout: ServicesLayout) {
    this.databaseUrl = `postgres://postgres@127.0.0.1:${layout.pgPort}/${DATABASE_NAME}`;
  }

  /** services.sh's environment: this run's ports and directories, never the shared ones. */
  private env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: this.databaseUrl,
      ULO_PG_DIR: this.layout.pgDir,
      KAFKA_NODES: String(this.layout.nodes),
      ULO_KAFKA_PORT: String(this.layout.kafkaPort),
      ULO_CACHE_DIR: this.layout.cacheDir,
    };
    // A broker list from the caller's shell would make services.sh reuse (or refuse) those brokers.
    delete env.KAFKA_BROKERS;
    return env;
  }

  /** The broker ports of every node, with their controller ports. */
  private kafkaPorts(): number[] {
    const ports: number[] = [];
    for (let i = 0; i < this.layout.nodes; i++) ports.push(this.layout.kafkaPort + 2 * i, this.layout.kafkaPort + 2 * i + 1);
    return ports;
  }

  /**
   * Before the first `up`: the ports must be free, or the run would test whatever answers there.
   * Nodes still running in the fault test's own cache directory are the leftovers of an
   * interrupted run of this test: they are stopped first.
   */
  async checkPortsFree(say: (line: string) => void): Promise<void> {
    const leftovers = await this.kafkaPids();
    if (leftovers.length) {
      say(`stopping Kafka nodes left running in ${this.layout.cacheDir} by an interrupted run (pids ${leftovers.join(', ')})`);
      await this.stopNodes();
    }
    const busy: number[] = [];
    for (const port of [this.layout.pgPort, ...this.kafkaPorts()]) if (!(await portIsFree(port))) busy.push(port);
    if (busy.length) {
      throw new Error(
        `127.0.0.1 port(s) ${busy.join(', ')} already in use; the fault test needs its own PostgreSQL (FAULTS_PG_PORT) and ` +
          `Kafka ports (FAULTS_KAFKA_PORT .. +${2 * this.layout.nodes - 1})`,
      );
    }
  }

  /** `services.sh up`: starts what is not running and waits for it; bounded by `timeoutMs`. */
  async up(timeoutMs = 240_000): Promise<void> {
    if (this.closing) throw new Error('the run is stopping; services.sh up is not run any more');
    const call = run('bash', ['scripts/services.sh', 'up'], { cwd: this.layout.root, env: this.env(), timeoutMs });
    this.upInFlight = call.catch(() => '');
    const out = await call;
    const brokers = /^KAFKA_BROKERS=(.+)$/m.exec(out)?.[1]?.trim();
    if (!brokers) throw new Error(`services.sh up printed no KAFKA_BROKERS:\n${out}`);
    const list = brokers.split(',');
    if (list.length !== this.layout.nodes) {
      throw new Error(`services.sh up printed ${list.length} broker(s) (${brokers}), not ${this.layout.nodes}: does it support KAFKA_NODES?`);
    }
    this.kafkaBrokers = list;
  }

  /**
   * The private cluster is made by services.sh with `synchronous_commit = off` (fine for a
   * development database): a commit may wait in PostgreSQL's memory for a fraction of a second. An
   * immediate stop is one of the faults here, and a 204 must mean the logout survives it, so each
   * commit is written out before it returns. Only as far as the kernel (`fsync = off`): the
   * machine itself does not crash in this test, and flushing to disk would only make it slow.
   */
  async makeCommitsSurviveAStop(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl });
    await client.connect();
    try {
      await client.query('ALTER SYSTEM SET synchronous_commit = on');
      await client.query('ALTER SYSTEM SET fsync = off');
      await client.query('SELECT pg_reload_conf()');
    } finally {
      await client.end();
    }
  }

  /** Whether PostgreSQL accepts a connection and a query now. */
  async postgresAnswers(): Promise<boolean> {
    const client = new Client({ connectionString: this.databaseUrl, connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** The pid of node `n` (1-based), as services.sh knows it; null when it does not run. */
  async kafkaPid(node: number): Promise<number | null> {
    const { code, stdout } = await execQuiet('bash', ['scripts/services.sh', 'kafka-pid', String(node)], this.env(), this.layout.root, 30_000);
    const pid = Number(stdout.trim());
    return code === 0 && Number.isInteger(pid) && pid > 0 ? pid : null;
  }

  private async kafkaPids(): Promise<number[]> {
    const pids: number[] = [];
    for (let n = 1; n <= this.layout.nodes; n++) {
      const pid = await this.kafkaPid(n);
      if (pid !== null) pids.push(pid);
    }
    return pids;
  }

  /** SIGKILL node `n` (a crash: no controlled shutdown) and wait until it is gone. */
  async killBroker(node: number): Promise<number> {
    const pid = await this.kafkaPid(node);
    if (pid === null) throw new Error(`Kafka node ${node} is not running; nothing to kill`);
    process.kill(pid, 'SIGKILL');
    if (!(await waitGone(pid, 10_000))) throw new Error(`Kafka node ${node} (pid ${pid}) survived SIGKILL for 10 s`);
    return pid;
  }

  /** From now on `up` refuses to run. */
  refuseStarts(): void {
    this.closing = true;
  }

  /** From now on nothing starts; waits for a `services.sh up` still running (bounded by its own timeout). */
  private async quiesce(): Promise<void> {
    this.closing = true;
    await this.upInFlight;
  }

  /** Stops every node this run's cache directory knows of: SIGTERM together, SIGKILL after 30 s. */
  async stopKafka(): Promise<void> {
    await this.quiesce();
    await this.stopNodes();
  }

  private async stopNodes(): Promise<void> {
    const pids = await this.kafkaPids();
    for (const pid of pids) process.kill(pid, 'SIGTERM');
    const stopped = await Promise.all(pids.map((pid) => waitGone(pid, 30_000)));
    pids.forEach((pid, i) => {
      if (!stopped[i]) process.kill(pid, 'SIGKILL');
    });
    await Promise.all(pids.map((pid) => waitGone(pid, 5_000)));
  }

  /** pg_ctl stop of the private cluster; `immediate` is a crash (no checkpoint, recovery at the next start). */
  async stopPostgres(mode: 'immediate' | 'fast'): Promise<void> {
    if (!existsSync(join(this.layout.pgDir, 'PG_VERSION'))) return;
    const bin = pgBinDir();
    const pgCtl = bin ? join(bin, 'pg_ctl') : 'pg_ctl';
    // PostgreSQL refuses to run as root: as root the cluster belongs to the postgres user (services.sh's pg_owner_run).
    const [command, args] = isRoot()
      ? ['runuser', ['-u', 'postgres', '--', pgCtl, '-D', this.layout.pgDir, '-m', mode, '-w', 'stop']]
      : [pgCtl, ['-D', this.layout.pgDir, '-m', mode, '-w', 'stop']];
    const status = await execQuiet(command, args, process.env, this.layout.root, 60_000);
    // Exit status 1 with "Is server running?" means it was already stopped.
    if (status.code !== 0 && !/Is server running\?|no server running/i.test(status.stderr)) {
      throw new Error(`pg_ctl -m ${mode} stop failed (${status.code}): ${status.stderr.trim()}`);
    }
  }

  removePgDir(): void {
    rmSync(this.layout.pgDir, { recursive: true, force: true });
  }
}
