import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';

/** A process the bench started: one of the apps, or the bare baseline server. */
export interface BenchChild {
  name: string;
  proc: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A port nobody listens on at the moment (on 127.0.0.1), for a child to take. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs `node scripts/run-node.js <entry>` with its output going to a log file of its own. */
export function startNode(root: string, name: string, entry: string, env: NodeJS.ProcessEnv, logDir: string): BenchChild {
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const proc = spawn(process.execPath, ['scripts/run-node.js', entry], {
    cwd: root,
    env,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
    proc.once('error', () => resolve(127));
  });
  return { name, proc, logFile, exited };
}

export function isRunning(child: BenchChild): boolean {
  return child.proc.exitCode === null && child.proc.signalCode === null;
}

export function logTail(child: BenchChild, lines = 15): string {
  try {
    return readFileSync(child.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls `url` until it answers 200; fails when the child exits or the time is up. */
export async function waitForHttp(url: string, child: BenchChild, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!isRunning(child)) {
      throw new Error(`${child.name} exited (code ${child.proc.exitCode}) before ${url} answered:\n${logTail(child)}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(250);
  }
  throw new Error(`${child.name}: ${url} did not answer 200 within ${timeoutMs / 1000} s (${last}):\n${logTail(child)}`);
}

/** SIGTERM, then SIGKILL after the grace period; only this child, by its pid. */
export async function stopChild(child: BenchChild, graceMs = 10_000): Promise<void> {
  if (!isRunning(child)) return;
  child.proc.kill('SIGTERM');
  const done = await Promise.race([child.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done && isRunning(child)) {
    child.proc.kill('SIGKILL');
    await Promise.race([child.exited, sleep(2000)]);
  }
}

// --- CPU accounting from /proc (Linux); elsewhere the figures are simply left out -------------------

let clockTicks = 0;
function ticksPerSecond(): number {
  if (clockTicks) return clockTicks;
  try {
    clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    clockTicks = 100;
  }
  return clockTicks;
}

/** utime + stime of one process, in clock ticks; null when it is gone. */
function processTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

function pidsWhere(match: (pid: number) => boolean): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    try {
      return match(pid);
    } catch {
      return false;
    }
  });
}

/** The processes whose CPU the bench reports: its children, PostgreSQL's backends, the Kafka JVM, itself. */
export interface CpuGroups {
  [label: string]: () => number[];
}

export function defaultGroups(children: BenchChild[], database: string): CpuGroups {
  const groups: CpuGroups = {};
  for (const c of children) groups[c.name] = () => (c.proc.pid && isRunning(c) ? [c.proc.pid] : []);
  // Backends serving the bench database only (their title is "postgres: <ver>/<cluster>: <user> <db> <host> ...").
  groups[`postgres (${database})`] = () =>
    pidsWhere(
      (pid) =>
        readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres' &&
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(` ${database} `),
    );
  groups['postgres (server-wide)'] = () => pidsWhere((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres');
  groups['kafka broker (shared)'] = () => pidsWhere((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka'));
  groups['bench driver'] = () => [process.pid];
  return groups;
}

interface CpuSnapshot {
  at: number;
  perPid: Map<string, Map<number, number>>;
  machineBusy: number | null;
}

/** Busy ticks of the whole machine (all CPUs): everything but idle and iowait. */
function machineBusyTicks(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    return v.slice(0, 8).reduce((a, b) => a + b, 0) - v[3] - v[4];
  } catch {
    return null;
  }
}

export function cpuSnapshot(groups: CpuGroups): CpuSnapshot {
  const perPid = new Map<string, Map<number, number>>();
  for (const [label, pids] of Object.entries(groups)) {
    const m = new Map<number, number>();
    for (const pid of pids()) {
      const t = processTicks(pid);
      if (t !== null) m.set(pid, t);
    }
    perPid.set(label, m);
  }
  return { at: Date.now(), perPid, machineBusy: machineBusyTicks() };
}

export interface CpuUse {
  label: string;
  /** % of one core over the window. */
  percent: number;
  /** CPU time used in the window. */
  cpuMs: number;
}

/** CPU between two snapshots per group, plus the rest of the machine and the whole of it. */
export function cpuBetween(start: CpuSnapshot, end: CpuSnapshot): CpuUse[] {
  const seconds = Math.max(0.001, (end.at - start.at) / 1000);
  const hz = ticksPerSecond();
  const use = (label: string, ticks: number): CpuUse => ({ label, percent: (ticks / hz / seconds) * 100, cpuMs: (ticks / hz) * 1000 });
  const out: CpuUse[] = [];
  for (const [label, endPids] of end.perPid) {
    const startPids = start.perPid.get(label) ?? new Map<number, number>();
    let ticks = 0;
    for (const [pid, t] of endPids) ticks += t - (startPids.get(pid) ?? 0);
    out.push(use(label, ticks));
  }
  if (start.machineBusy !== null && end.machineBusy !== null) {
    const machine = end.machineBusy - start.machineBusy;
    // Groups may overlap (one PostgreSQL backend is in two of them); count each process once.
    const seen = new Set<number>();
    let listedTicks = 0;
    for (const [, endPids] of end.perPid) {
      for (const [pid, t] of endPids) {
        if (seen.has(pid)) continue;
        seen.add(pid);
        let before = 0;
        for (const [, startPids] of start.perPid) if (startPids.has(pid)) before = startPids.get(pid)!;
        listedTicks += t - before;
      }
    }
    out.push(use('other processes', Math.max(0, machine - listedTicks)));
    out.push(use('machine (all processes)', machine));
  }
  return out;
}

/** Waits until every consumer group of the bench's apps has members and is stable, failing fast if an app died. */
export async function waitForConsumerGroups(kafka: Kafka, groups: string[], children: BenchChild[], timeoutMs: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const dead = children.find((c) => !isRunning(c));
      if (dead) throw new Error(`${dead.name} exited (code ${dead.proc.exitCode}):\n${logTail(dead)}`);
      try {
        const { groups: described } = await admin.describeGroups(groups);
        if (described.every((g) => g.state === 'Stable' && g.members.length > 0)) return;
      } catch {
        // The group coordinator may not be ready yet.
      }
      await sleep(500);
    }
    throw new Error(`consumer groups ${groups.join(', ')} did not become stable within ${timeoutMs / 1000} s`);
  } finally {
    await admin.disconnect();
  }
}

/** Removes the run's topics and consumer groups. */
export async function deleteKafkaArtifacts(kafka: Kafka, prefix: string, groups: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteGroups(groups).catch(() => undefined);
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length) await admin.deleteTopics({ topics, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}
