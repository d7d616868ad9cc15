import fc from 'fast-check';
import { RunningGateway, startGateway } from './gateway.harness';
import { pollUntil } from '@ulo/testing';

/**
 * SPEC §7: whatever a caller puts in a Management API query (or a list's path
 * parameter), the real gateway answers 2xx or 4xx, never 5xx, and a read changes nothing.
 * Property-based (fast-check) with a fixed seed, so CI runs the same cases every time; a failure
 * prints its seed and the shrunk request. Run it longer or with another seed:
 *   FUZZ_SEED=<n> FUZZ_RUNS=<n> npx jest apps/gateway/test/management-fuzz --selectProjects integration
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

/** The lists of the Management API and the filters each takes (SPEC §5, §6). */
const LISTS: { path: string; params: string[] }[] = [
  { path: '/api/v2/logs', params: ['from', 'take', 'type', 'user_id', 'connection', 'client_id', 'from_date', 'to_date'] },
  { path: '/api/v2/connections', params: ['from', 'take', 'strategy', 'name'] },
  { path: '/api/v2/log-streams', params: ['from', 'take'] },
  { path: '/api/v2/clients', params: ['from', 'take'] },
  { path: '/api/v2/backchannel-deliveries', params: ['from', 'take', 'status'] },
  { path: '/api/v2/users/{id}/sessions', params: ['from', 'take'] },
  { path: '/api/v2/users/{id}/refresh-tokens', params: ['from', 'take'] },
  { path: '/api/v2/logout-requests', params: ['from', 'take', 'user_id', 'email', 'connection', 'initiator', 'status', 'from_date', 'to_date'] },
  { path: '/api/v2/stats/throughput', params: ['minutes'] },
];
/** Reads of one resource by a caller-chosen id. */
const ITEMS = ['/api/v2/users/{id}', '/api/v2/sessions/{id}', '/api/v2/logs/{id}', '/api/v2/log-streams/{id}', '/api/v2/connections/{id}'];

const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];

/** Values meant to hit the edges: dates before 1970 and past 9999, numbers out of range, NUL, overlong text. */
const edgeValue = fc.constantFrom(
  '1969-01-01',
  '1969-12-31T23:59:59.999Z',
  '0000-01-01',
  '+275760-09-13T00:00:00Z',
  '-000001-01-01',
  '9999-12-31T23:59:59.999Z',
  '10000-01-01',
  '2026-02-30',
  '2026-13-01T00:00:00Z',
  '1e400',
  '-0',
  '0x10',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '101',
  '9007199254740993',
  '1.5',
  '',
  '\u0000',
  'a\u0000b',
  '\r\n',
  '\u007f',
  '\ud83d\ude00',
  '%00',
  'x'.repeat(5000),
  '01J0000000000000000000000Z',
  '7ZZZZZZZZZZZZZZZZZZZZZZZZZ',
  ...PROTOTYPE_NAMES,
);
const value = fc.oneof(
  { weight: 3, arbitrary: edgeValue },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) },
);

/** A query string: known filters and others, repeated names, raw percent-escapes that are not UTF-8. */
function queryOf(params: string[]): fc.Arbitrary<string> {
  const name = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...params) },
    { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES, 'color', 'from[]', '__proto__[x]', 'take[$gt]') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }) },
  );
  const pair = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(name, value).map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`) },
    { weight: 1, arbitrary: fc.tuple(name, fc.constantFrom('%FF', '%C0%80', '%ED%A0%80', '%E0%80', '%', '%zz', '%2')).map(([n, raw]) => `${encodeURIComponent(n)}=${raw}`) },
    { weight: 1, arbitrary: name.map((n) => encodeURIComponent(n)) },
  );
  return fc.array(pair, { maxLength: 6 }).map((pairs) => pairs.join('&'));
}

/** An id for a path: anything, escaped as a client would (or raw escapes). */
const pathId = fc.oneof(
  { weight: 3, arbitrary: fc.oneof(edgeValue, fc.string({ unit: 'binary', minLength: 1, maxLength: 40 })).map((id) => encodeURIComponent(id || 'x')) },
  { weight: 1, arbitrary: fc.constantFrom('%00', '%FF', '..', '%2e%2e', 'auth0%7Cfuzz-user', 'lst_', 'a%2Fb', '%') },
);

describe('Management API under generated query parameters (fast-check)', () => {
  let gw: RunningGateway;

  /** What a read must leave as it was: every table the Management API serves, and the log. */
  const snapshot = async () => {
    const tables = ['connections', 'clients', 'users', 'user_identities', 'sessions', 'refresh_tokens', 'log_streams', 'backchannel_deliveries', 'signing_keys'];
    const counts: Record<string, unknown> = {};
    for (const t of tables) counts[t] = (await gw.dataSource.query(`SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) AS h FROM ${t} x`))[0].h;
    counts.log_events = (await gw.dataSource.query(`SELECT count(*)::int AS n, max(log_id) AS last FROM log_events`))[0];
    return counts;
  };

  /** One GET; the failure message names the request, so that fast-check's report is readable. */
  const get = async (path: string) => {
    const res = await fetch(`${gw.baseUrl}${path}`, { headers: { authorization: 'Bearer test-management-token' } });
    const text = await res.text();
    return { status: res.status, text };
  };
  const neverServerError = async (path: string) => {
    const { status, text } = await get(path);
    if (status >= 500) throw new Error(`GET ${path} answered ${status}: ${text.slice(0, 300)}`);
    if (status >= 400 && !/"statusCode":4\d\d/.test(text)) throw new Error(`GET ${path} answered ${status} without a JSON error: ${text.slice(0, 300)}`);
  };

  beforeAll(async () => {
    gw = await startGateway();
    // Something for every list to find.
    const writes: [string, unknown][] = [
      ['/api/v2/connections', { name: 'fuzz-okta', strategy: 'okta', options: { issuer: 'https://fuzz.okta.example.com' } }],
      ['/api/v2/clients', { client_id: 'fuzz-client', name: 'Fuzz' }],
      ['/api/v2/users', { user_id: 'auth0|fuzz-user', email: 'fuzz@example.com' }],
      ['/api/v2/sessions', { id: 'sess-fuzz', user_id: 'auth0|fuzz-user', clients: [{ client_id: 'fuzz-client' }] }],
      ['/api/v2/log-streams', { name: 'fuzz', type: 'http', sink: { httpEndpoint: 'https://siem.example.com/in' } }],
    ];
    for (const [path, body] of writes) expect((await gw.api('POST', path, body)).status).toBe(201);
    // The audit events of those writes reach the outbox relay; wait until the tables are still.
    await pollUntil(async () => (await gw.dataSource.query(`SELECT count(*)::int AS n FROM outbox`))[0].n as number, (n) => n === 0, {
      what: 'the outbox to drain',
    });
  });
  afterAll(async () => gw.close());

  it.each(LISTS)('$path answers 2xx or 4xx to any query, and changes nothing', async ({ path, params }) => {
    const before = await snapshot();
    const list = path.replace('{id}', encodeURIComponent('auth0|fuzz-user'));
    await fc.assert(
      fc.asyncProperty(queryOf(params), async (query) => neverServerError(`${list}?${query}`)),
      {
        seed: SEED,
        numRuns: RUNS,
        // The inputs that answered 500 before: always tried first.
        examples: [['from_date=1969-01-01'], ['to_date=1969-01-01'], ['user_id=%00'], ['from=%00'], ['name=a%00'], ['__proto__=x']],
      },
    );
    expect(await snapshot()).toEqual(before);
  });

  it('answers 2xx or 4xx to any id in a read of one resource, and changes nothing', async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ITEMS), pathId, queryOf(['from', 'take']), async (item, id, query) =>
        neverServerError(`${item.replace('{id}', id)}${query ? `?${query}` : ''}`),
      ),
      { seed: SEED, numRuns: RUNS * 2, examples: [['/api/v2/logs/{id}', '%00', ''], ['/api/v2/log-streams/{id}', '%00', '']] },
    );
    expect(await snapshot()).toEqual(before);
  });

  it('answers the inputs that used to fail with a 400 that says why', async () => {
    const cases: [string, RegExp][] = [
      ['/api/v2/logs?from_date=1969-01-01', /from_date must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z/],
      ['/api/v2/logs?to_date=1969-12-31T23:59:59Z', /to_date must be between/],
      ['/api/v2/logs?user_id=%00', /query parameter "user_id" must not contain control characters/],
      ['/api/v2/connections?name=a%00b', /query parameter "name" must not contain control characters/],
      ['/api/v2/connections?from=%00', /query parameter "from" must not contain control characters/],
      ['/api/v2/log-streams/%00', /path parameter "id" must not contain control characters/],
      ['/api/v2/users/auth0%7Cfuzz-user/sessions?__proto__=x', /query parameter "__proto__" is not accepted/],
      ['/api/v2/clients?constructor=x', /query parameter "constructor" is not accepted/],
      [`/api/v2/logs?connection=${'x'.repeat(1025)}`, /query parameter "connection" must be at most 1024 characters/],
    ];
    for (const [path, message] of cases) {
      const { status, text } = await get(path);
      expect({ path, status }).toEqual({ path, status: 400 });
      expect(JSON.parse(text)).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(message) });
    }
    // The earliest and latest dates a log can hold are fine.
    expect((await get('/api/v2/logs?from_date=1970-01-01&to_date=9999-12-31T23:59:59.999Z')).status).toBe(200);
  });
});
