import { retryDelayMs } from './backoff';
import { OutageReporter } from './outage-reporter';

export interface RetryForeverOptions {
  reporter: OutageReporter;
  baseMs?: number;
  maxMs?: number;
  /** Checked before each attempt and during waits: true stops the loop (it then returns undefined). */
  stopped?: () => boolean;
}

/** Resolves after `ms`, or earlier once `stopped()` turns true (checked every 100 ms). */
export async function pause(ms: number, stopped: () => boolean = () => false): Promise<void> {
  const until = Date.now() + ms;
  while (!stopped() && Date.now() < until) {
    await new Promise((r) => setTimeout(r, Math.min(100, until - Date.now())));
  }
}

/**
 * Runs `attempt` until it succeeds, waiting a capped, jittered, growing delay between failures;
 * the reporter logs the outage once and the recovery once. For connecting and other start-up
 * work that must not make a process exit (SPEC §8).
 */
export async function retryForever<T>(attempt: () => Promise<T>, options: RetryForeverOptions): Promise<T | undefined> {
  const { reporter, baseMs = 500, maxMs = 10_000, stopped = () => false } = options;
  for (let failures = 1; !stopped(); failures++) {
    try {
      const result = await attempt();
      reporter.recovered();
      return result;
    } catch (err) {
      reporter.failed(err);
      await pause(retryDelayMs(failures, baseMs, maxMs), stopped);
    }
  }
  return undefined;
}
