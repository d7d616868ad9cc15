import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../../..');

/**
 * One of the real apps as its own process (compiled tree, `npm run build` first), for tests that
 * need to kill it. Output goes to `.test-logs/<name>-<pid>.log`.
 */
export class AppProcess {
  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly exited: Promise<number | null>,
    readonly logFile: string,
  ) {}

  static start(app: string, env: Record<string, string>): AppProcess {
    const logDir = join(root, '.test-logs');
    mkdirSync(logDir, { recursive: true });
    const child = spawn(process.execPath, [join(root, 'scripts/run-node.js'), `apps/${app}/src/main`], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logFile = join(logDir, `${app}-${child.pid}.log`);
    const log = createWriteStream(logFile);
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    return new AppProcess(app, child, exited, logFile);
  }

  /** The exit code once the process has exited by itself, else null. */
  get exitCode(): number | null {
    return this.child.exitCode;
  }

  /** SIGKILL: no shutdown hook runs, nothing is committed on the way out. */
  async crash(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10000);
    await this.exited;
    clearTimeout(timer);
  }
}
