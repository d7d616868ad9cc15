import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '@ulo/testing';

// scripts/supervise.js, the supervisor of `npm start`, run as a process with tiny node commands as apps.

const SUPERVISOR = join(__dirname, '..', 'supervise.js');

/** An app that prints its pid at start, then runs `body`. */
function app(name: string, body: string): string {
  return `${name}=${JSON.stringify([process.execPath, '-e', `console.log('started', process.pid); ${body}`])}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

class Supervisor {
  private out = '';
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  private readonly child: ChildProcess;

  constructor(args: string[], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(process.execPath, [SUPERVISOR, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.out += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.out += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  lines(): string[] {
    return this.out.split('\n').filter((l) => l !== '');
  }

  /** The pids of the starts of `name`, in order. */
  pidsOf(name: string): number[] {
    const start = new RegExp(`^${name} +\\| started (\\d+)$`);
    return this.lines().flatMap((l) => (start.exec(l) ? [Number(start.exec(l)![1])] : []));
  }

  /** The delays, in seconds, of the restarts of `name` the supervisor announced. */
  delaysOf(name: string): number[] {
    const restart = new RegExp(`^supervise +\\| ${name} .* restarting in ([\\d.]+) s$`);
    return this.lines().flatMap((l) => (restart.exec(l) ? [Number(restart.exec(l)![1])] : []));
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  /** After a test: nothing it started outlives it, even when an assertion failed half-way. */
  async destroy(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
    for (const pid of this.lines().flatMap((l) => /\| started (\d+)$/.exec(l)?.[1] ?? []).map(Number)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone, as it should be.
      }
    }
  }
}

describe('scripts/supervise.js', () => {
  let supervisor: Supervisor;
  afterEach(async () => supervisor?.destroy());

  it('restarts an app that exits after 1 s, then 2 s, while the other app keeps running', async () => {
    supervisor = new Supervisor([app('quick', 'setTimeout(() => process.exit(3), 200)'), app('steady', 'setInterval(() => {}, 1000)')]);
    await pollUntil(async () => supervisor.pidsOf('quick'), (pids) => pids.length >= 3, { what: 'the third start of quick' });

    expect(supervisor.delaysOf('quick').slice(0, 2)).toEqual([1, 2]);
    expect(supervisor.lines()).toContainEqual(expect.stringMatching(/^supervise +\| quick exited with code 3 after [\d.]+ s; restarting in 1 s$/));
    const steady = supervisor.pidsOf('steady');
    expect(steady).toHaveLength(1);
    expect(alive(steady[0])).toBe(true);
    expect(supervisor.delaysOf('steady')).toEqual([]);
  });

  it('restarts an app killed by a signal', async () => {
    supervisor = new Supervisor(['--min-delay-ms', '100', app('steady', 'setInterval(() => {}, 1000)')]);
    const [first] = await pollUntil(async () => supervisor.pidsOf('steady'), (pids) => pids.length === 1, { what: 'steady to start' });
    process.kill(first, 'SIGKILL');

    const pids = await pollUntil(async () => supervisor.pidsOf('steady'), (p) => p.length === 2, { what: 'steady to start again' });
    expect(alive(pids[1])).toBe(true);
    expect(supervisor.lines()).toContainEqual(expect.stringMatching(/^supervise +\| steady was killed by SIGKILL after [\d.]+ s; restarting in 0\.1 s$/));
  });

  it('doubles the delay up to its cap, and starts again at the first delay after a long run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulo-supervise-'));
    try {
      // The fifth run lasts longer than --reset-after-ms; every other run exits at once.
      const counter = JSON.stringify(join(dir, 'runs'));
      const body =
        `const fs = require('fs'); const runs = (fs.existsSync(${counter}) ? Number(fs.readFileSync(${counter}, 'utf8')) : 0) + 1; ` +
        `fs.writeFileSync(${counter}, String(runs)); setTimeout(() => process.exit(1), runs === 5 ? 2500 : 0);`;
      supervisor = new Supervisor(['--min-delay-ms', '100', '--max-delay-ms', '400', '--reset-after-ms', '2000', app('flaky', body)]);
      await pollUntil(async () => supervisor.delaysOf('flaky'), (d) => d.length >= 6, { what: 'six restarts of flaky' });

      expect(supervisor.delaysOf('flaky').slice(0, 6)).toEqual([0.1, 0.2, 0.4, 0.4, 0.1, 0.2]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on SIGTERM stops every app, then exits', async () => {
    supervisor = new Supervisor([app('one', 'setInterval(() => {}, 1000)'), app('two', 'setInterval(() => {}, 1000)')]);
    await pollUntil(async () => [...supervisor.pidsOf('one'), ...supervisor.pidsOf('two')], (p) => p.length === 2, { what: 'both apps to start' });
    const pids = [...supervisor.pidsOf('one'), ...supervisor.pidsOf('two')];
    supervisor.signal('SIGTERM');

    expect(await supervisor.exited).toEqual({ code: 0, signal: null });
    expect(pids.filter(alive)).toEqual([]);
    expect(supervisor.lines()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^supervise +\| one was killed by SIGTERM$/),
        expect.stringMatching(/^supervise +\| two was killed by SIGTERM$/),
      ]),
    );
    expect(supervisor.delaysOf('one')).toEqual([]);
  });

  it('SIGKILLs an app that ignores SIGTERM after --kill-after-ms', async () => {
    supervisor = new Supervisor(['--kill-after-ms', '500', app('stubborn', "process.on('SIGTERM', () => console.log('ignored')); setInterval(() => {}, 1000)")]);
    const [pid] = await pollUntil(async () => supervisor.pidsOf('stubborn'), (p) => p.length === 1, { what: 'stubborn to start' });
    const stopAsked = Date.now();
    supervisor.signal('SIGINT');

    expect(await supervisor.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - stopAsked).toBeGreaterThanOrEqual(500);
    expect(alive(pid)).toBe(false);
    expect(supervisor.lines()).toEqual(
      expect.arrayContaining(['stubborn  | ignored', 'supervise | stubborn did not stop in time: SIGKILL', 'supervise | stubborn was killed by SIGKILL']),
    );
  });

  describe('log lines', () => {
    // A line as the apps' pino loggers write it (nestjs-pino: level, time, pid, hostname, context, msg).
    const logLine = JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 1, 10, 42, 0, 5), pid: 7, hostname: 'vm', context: 'AcceptLogout', msg: 'logout accepted', requestId: 'lr_1' });
    const printing = app('gateway', `console.log(${JSON.stringify(logLine)}); console.log('plain text'); setInterval(() => {}, 1000)`);
    const { LOG_FORMAT: _ignored, ...env } = process.env;

    it('--log-format pretty shows each JSON line as one readable line: time, level, [context] message, the other fields', async () => {
      supervisor = new Supervisor(['--log-format', 'pretty', printing], env);
      const lines = await pollUntil(async () => supervisor.lines(), (l) => l.some((x) => x.includes('plain text')), { what: 'the app to print' });

      expect(lines).toContainEqual(expect.stringMatching(/^gateway +\| \[\d\d:\d\d:\d\d\.005\] WARN: \[AcceptLogout\] logout accepted \{"requestId":"lr_1"\}$/));
      expect(lines).toContain('gateway   | plain text');
      expect(lines.join('\n')).not.toContain('"hostname"');
    });

    it('passes JSON through with --log-format json, and by default when the output is not a terminal', async () => {
      for (const args of [['--log-format', 'json'], []]) {
        supervisor = new Supervisor([...args, printing], env);
        const lines = await pollUntil(async () => supervisor.lines(), (l) => l.some((x) => x.includes('plain text')), { what: 'the app to print' });
        expect(lines).toContain(`gateway   | ${logLine}`);
        await supervisor.destroy();
      }
    });

    it('takes LOG_FORMAT from the environment, and refuses a format it does not know', async () => {
      supervisor = new Supervisor([printing], { ...env, LOG_FORMAT: 'pretty' });
      const lines = await pollUntil(async () => supervisor.lines(), (l) => l.some((x) => x.includes('plain text')), { what: 'the app to print' });
      expect(lines).toContainEqual(expect.stringMatching(/WARN: \[AcceptLogout\] logout accepted/));
      await supervisor.destroy();

      supervisor = new Supervisor(['--log-format', 'fancy', printing], env);
      expect(await supervisor.exited).toEqual({ code: 64, signal: null });
      expect(supervisor.lines()[0]).toBe('supervise: --log-format (or LOG_FORMAT) must be one of: auto, pretty, json');
    });
  });
});
