import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import type { Kafka } from 'kafkajs';
import { BenchChild, isRunning, sleep, startNode, stopChild, waitForHttp } from '../../scripts/bench/processes';

/** One app process of the run: `gateway-1`, `session-terminator-2`, ... */
export interface Instance {
  name: string;
  app: string;
  env: NodeJS.ProcessEnv;
  /** Where `/health/live` and `/health/ready` are served. */
  healthUrl: string;
  child: BenchChild;
  /** Set while the test itself kills or stops this process: its exit is not a failure. */
  exitExpected: boolean;
  kills: number;
}

/** An exit nobody asked for: the app died by itself. */
export interface UnexpectedExit {
  name: string;
  code: number | null;
  signal: string | null;
  atMs: number;
  /** The error it died of, as its log tells it (an uncaught error's first lines, or the last ERROR line). */
  cause: string;
  logFile: string;
}

/** The error a process died of, from its log: the uncaught error's headline and cause, else its last ERROR/FATAL line. */
export function deathCause(logFile: string): string {
  let lines: string[];
  try {
    lines = readFileSync(logFile, 'utf8').trimEnd().split('\n');
  } catch {
    return '(no log)';
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^[A-Za-z]*Error\b/.test(lines[i])) {
      const next = lines[i + 1]?.trim() ?? '';
      return next.startsWith('Caused by:') ? `${lines[i]} (${next})` : lines[i];
    }
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/"level":"?(ERROR|FATAL|50|60)/i.test(lines[i])) return lines[i].slice(0, 400);
  }
  return lines.at(-1)?.slice(0, 400) ?? '(empty log)';
}

/**
 * Every app of the run as its own process, logging to `<logDir>/<name>.log` (a restart appends to
 * the same file). Only the test's own kills are expected exits; any other exit is recorded.
 */
export class Fleet {
  readonly instances: Instance[] = [];
  readonly unexpectedExits: UnexpectedExit[] = [];
  private stopping = false;

  constructor(
    private readonly root: string,
    readonly logDir: string,
    private readonly startedAt: number,
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  start(app: string, index: number, env: NodeJS.ProcessEnv, healthUrl: string): Instance {
    if (this.stopping) throw new Error('the run is stopping; no app is started any more');
    const name = `${app}-${index}`;
    const instance: Instance = { name, app, env, healthUrl, child: this.spawn(name, app, env), exitExpected: false, kills: 0 };
    this.watch(instance);
    this.instances.push(instance);
    return instance;
  }

  private spawn(name: string, app: string, env: NodeJS.ProcessEnv): BenchChild {
    return startNode(this.root, name, `apps/${app}/src/main`, env, this.logDir);
  }

  private watch(instance: Instance): void {
    const child = instance.child;
    void child.exited.then(() => {
      // A later incarnation of the same instance is watched by its own call.
      if (instance.child !== child || instance.exitExpected || this.stopping) return;
      this.unexpectedExits.push({
        name: instance.name,
        code: child.proc.exitCode,
        signal: child.proc.signalCode,
        atMs: Date.now() - this.startedAt,
        cause: deathCause(child.logFile),
        logFile: child.logFile,
      });
    });
  }

  byName(name: string): Instance {
    const found = this.instances.find((i) => i.name === name);
    if (!found) throw new Error(`no app instance ${name}`);
    return found;
  }

  /** SIGKILL: no shutdown hook runs, the consumer does not leave its group. */
  async kill(instance: Instance): Promise<void> {
    if (!isRunning(instance.child)) throw new Error(`${instance.name} is not running; it cannot be killed`);
    instance.exitExpected = true;
    instance.kills++;
    instance.child.proc.kill('SIGKILL');
    await instance.child.exited;
  }

  /** Starts a killed instance again with the same environment (ports included) and log file. */
  restart(instance: Instance): void {
    if (this.stopping) throw new Error('the run is stopping; no app is restarted any more');
    if (isRunning(instance.child)) throw new Error(`${instance.name} still runs; only a killed instance is restarted`);
    appendFileSync(instance.child.logFile, `\n--- fault test: restarted after SIGKILL ${instance.kills} at +${((Date.now() - this.startedAt) / 1000).toFixed(1)} s ---\n`);
    instance.child = this.spawn(instance.name, instance.app, instance.env);
    instance.exitExpected = false;
    this.watch(instance);
  }

  /** Waits until `/health/ready` answers 200; fails at once when the process exits. */
  async waitReady(instance: Instance, timeoutMs: number): Promise<void> {
    await waitForHttp(`${instance.healthUrl}/health/ready`, instance.child, timeoutMs);
  }

  /** Each instance's readiness now: 200 or what it answered instead. */
  async readiness(): Promise<{ name: string; ready: boolean; answer: string }[]> {
    return Promise.all(
      this.instances.map(async (i) => {
        if (!isRunning(i.child)) return { name: i.name, ready: false, answer: 'not running' };
        try {
          const res = await fetch(`${i.healthUrl}/health/ready`, { signal: AbortSignal.timeout(3000) });
          const body = (await res.text()).slice(0, 300);
          return { name: i.name, ready: res.status === 200, answer: `${res.status} ${body}` };
        } catch (err) {
          return { name: i.name, ready: false, answer: (err as Error).message };
        }
      }),
    );
  }

  running(): number {
    return this.instances.filter((i) => isRunning(i.child)).length;
  }

  /** From now on no instance starts, and exits are expected. */
  refuseStarts(): void {
    this.stopping = true;
  }

  /** Stops every instance (SIGTERM, then SIGKILL after 10 s); exits from here on are expected. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.instances.map((i) => stopChild(i.child)));
  }
}

/**
 * Waits until each consumer group has exactly `members` members and is Stable, so that the work is
 * split between the instances before the first fault; fails at once when an app exits.
 */
export async function waitForGroupMembers(kafka: Kafka, groups: string[], members: number, fleet: Fleet, timeoutMs: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const dead = fleet.unexpectedExits[0];
      if (dead) throw new Error(`${dead.name} exited (code ${dead.code}, signal ${dead.signal}): ${dead.cause}`);
      try {
        const { groups: described } = await admin.describeGroups(groups);
        last = described.map((g) => `${g.groupId}: ${g.state}, ${g.members.length} member(s)`).join('; ');
        if (described.every((g) => g.state === 'Stable' && g.members.length === members)) return;
      } catch (err) {
        // The group coordinator may not be ready yet.
        last = (err as Error).message;
      }
      await sleep(250);
    }
    throw new Error(`the consumer groups did not reach ${members} members each within ${timeoutMs / 1000} s: ${last}`);
  } finally {
    await admin.disconnect();
  }
}
