import { isRetryable, verdictFor } from './retry-policy';

const settings = { baseMs: 1000, maxDelayMs: 300_000, windowSeconds: 3600 };

describe('back-channel retry policy (SPEC §4 Delivery)', () => {
  it.each([
    [200, 'succeeded'],
    [204, 'succeeded'],
    [400, 'failed'],
    [401, 'failed'],
    [404, 'failed'],
    [429, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
    [null, 'retry'],
  ])('status %s → %s', (status, kind) => {
    expect(verdictFor(status, 1, 0, settings, () => 1).kind).toBe(kind);
  });

  it('backs off exponentially up to the maximum, with equal jitter: between half the ceiling and the ceiling', () => {
    const ceilings = [1, 2, 3, 4, 5, 12].map((attempt) => (verdictFor(503, attempt, 0, settings, () => 1) as { delayMs: number }).delayMs);
    expect(ceilings).toEqual([1000, 2000, 4000, 8000, 16000, 300000]);
    expect((verdictFor(503, 5, 0, settings, () => 0.25) as { delayMs: number }).delayMs).toBe(10000);
    expect((verdictFor(503, 5, 0, settings, () => 0) as { delayMs: number }).delayMs).toBe(8000);
    expect((verdictFor(503, 1, 0, settings, () => 0) as { delayMs: number }).delayMs).toBe(500);
  });

  it('keeps retrying for the whole window (at least an hour), then parks', () => {
    expect(verdictFor(503, 30, 3_000_000, settings, () => 0.1).kind).toBe('retry');
    expect(verdictFor(503, 30, 3_599_000, settings, () => 1).kind).toBe('parked');
  });

  it('retries only what may succeed later', () => {
    expect([429, 500, 502, null].every(isRetryable)).toBe(true);
    expect([400, 403, 404, 410].some(isRetryable)).toBe(false);
  });
});
