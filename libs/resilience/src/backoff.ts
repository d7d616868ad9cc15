/**
 * Delay before the next attempt after `failures` consecutive failed deliveries: exponential from
 * `baseMs`, capped at `maxMs`, with "equal jitter" (half fixed, half random) so that streams that
 * failed together do not retry together, yet never retry at once.
 */
export function retryDelayMs(failures: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
