import { retryDelayMs } from '@ulo/resilience';

/** What to do after one delivery attempt (SPEC §4 "Delivery"). */
export type AttemptVerdict =
  | { kind: 'succeeded' }
  | { kind: 'failed' }
  | { kind: 'retry'; delayMs: number }
  | { kind: 'parked' };

export interface RetrySettings {
  baseMs: number;
  maxDelayMs: number;
  windowSeconds: number;
}

/** 2xx succeeded; any 4xx but 429 failed for good; 5xx, 429, timeouts and connection errors retried. */
export function isRetryable(statusCode: number | null): boolean {
  return statusCode === null || statusCode === 429 || statusCode >= 500;
}

/**
 * The service's one backoff (libs/resilience, equal jitter), retried while the delivery is younger
 * than the retry window (at least an hour by default), then parked for an operator to replay.
 */
export function verdictFor(
  statusCode: number | null,
  attempts: number,
  ageMs: number,
  settings: RetrySettings,
  random: () => number = Math.random,
): AttemptVerdict {
  if (statusCode !== null && statusCode >= 200 && statusCode < 300) return { kind: 'succeeded' };
  if (!isRetryable(statusCode)) return { kind: 'failed' };
  const delayMs = retryDelayMs(attempts, settings.baseMs, settings.maxDelayMs, random);
  if (ageMs + delayMs > settings.windowSeconds * 1000) return { kind: 'parked' };
  return { kind: 'retry', delayMs };
}
