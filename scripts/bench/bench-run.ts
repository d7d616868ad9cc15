import { execFile } from 'node:child_process';

/** What every benchmark of scripts/bench shares: settings, progress lines, child commands, cleanup, the run itself. */

export function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer (got ${JSON.stringify(raw)})`);
  return value;
}

export const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

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

/** Runs `main` within BENCH_MAX_SECONDS, cleaning up on success, failure, timeout and Ctrl-C. */
export function runBench(main: () => Promise<number>): void {
  const maxSeconds = (() => {
    try {
      return intFromEnv('BENCH_MAX_SECONDS', 900);
    } catch {
      return 900;
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
