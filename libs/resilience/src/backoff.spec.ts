import { retryDelayMs } from './backoff';

describe('retryDelayMs: exponential backoff with equal jitter', () => {
  it.each([
    // failures, random, expected (base 1000 ms, cap 300000 ms)
    [1, 0, 500],
    [1, 1, 1000],
    [2, 0, 1000],
    [2, 1, 2000],
    [3, 0.5, 3000],
    [9, 1, 256000],
    [10, 0, 150000],
    [10, 1, 300000],
    [50, 1, 300000],
  ])('after %i failure(s) with random %d waits %i ms', (failures, random, expected) => {
    expect(retryDelayMs(failures, 1000, 300000, () => random)).toBe(expected);
  });

  it('never waits less than half the ceiling, whatever the jitter', () => {
    for (let i = 0; i < 100; i++) expect(retryDelayMs(4, 100, 10000)).toBeGreaterThanOrEqual(400);
  });

  it('treats zero failures like the first', () => {
    expect(retryDelayMs(0, 1000, 300000, () => 0)).toBe(500);
  });
});
