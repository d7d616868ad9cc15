import { z } from 'zod';
import { dateTimeString } from './date-time';

describe('dateTimeString', () => {
  const cases = [
    '2026-12-04T18:52:55.123Z',
    '2026-12-04T18:52:55Z',
    '2026-12-04T18:52Z',
    '2024-02-29T00:00:00Z',
    '2026-02-29T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-12-04T24:00:00Z',
    '2026-12-04T18:52:55+01:00',
    '2026-12-04T18:52:55-0530',
    '2026-12-04 18:52:55Z',
    '2026-12-04T18:52:55.123',
    '',
    'yesterday',
  ];

  it.each([false, true])('accepts and refuses what z.string().datetime() does (offset %s)', (offset) => {
    const ours = dateTimeString({ offset });
    const zods = z.string().datetime({ offset });
    for (const text of cases) expect([text, ours.safeParse(text).success]).toEqual([text, zods.safeParse(text).success]);
    // Both kinds of answer occur, so the comparison above is not vacuous.
    expect(new Set(cases.map((t) => ours.safeParse(t).success))).toEqual(new Set([true, false]));
  });

  it("refuses with zod's message", () => {
    const result = dateTimeString().safeParse('2026-12-04T18:52:55+01:00');
    expect(result.success).toBe(false);
    expect(!result.success && result.error.issues[0].message).toBe('Invalid datetime');
  });
});
