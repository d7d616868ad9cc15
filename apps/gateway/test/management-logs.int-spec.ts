import { ulid } from 'ulid';
import { LogEvent, LogEventType } from '@ulo/contracts';
import { RunningGateway, startGateway } from './gateway.harness';

const start = Date.parse('2026-03-01T00:00:00Z');
const types: LogEventType[] = ['universal_logout_succeeded', 'universal_logout_failed', 'srrt', 'oidc_backchannel_logout_succeeded'];

/** 300 events over three days, each field cycling, so every filter selects a different subset. */
function dataset(): LogEvent[] {
  return Array.from({ length: 300 }, (_, i) => {
    const at = start + i * 864000; // every 14.4 minutes: 100 events a day
    return {
      log_id: ulid(at),
      date: new Date(at).toISOString(),
      type: types[i % types.length],
      description: `event ${i}`,
      connection: i % 3 === 0 ? null : `conn-${i % 3}`,
      connection_id: null,
      client_id: `app-${i % 2}`,
      client_name: null,
      user_id: `auth0|user-${i % 5}`,
      identity_user_id: null,
      ip: '203.0.113.7',
      user_agent: 'Okta-Universal-Logout',
      hostname: 'logout.example.com',
      details: { n: i },
    };
  }).sort((a, b) => a.log_id.localeCompare(b.log_id));
}

describe('Management API: logs (SPEC §5)', () => {
  let gw: RunningGateway;
  const events = dataset();

  beforeAll(async () => {
    gw = await startGateway();
    for (const e of events) {
      await gw.dataSource.query(
        `INSERT INTO log_events (log_id, date, type, user_id, connection, client_id, data) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [e.log_id, e.date, e.type, e.user_id, e.connection, e.client_id, JSON.stringify(e)],
      );
    }
  });
  afterAll(async () => gw.close());

  /** Every page of a query, with take=100. */
  async function pageThrough(query: string): Promise<{ pages: LogEvent[][]; all: LogEvent[] }> {
    const pages: LogEvent[][] = [];
    let from: string | undefined;
    do {
      const res = await gw.api('GET', `/api/v2/logs?take=100${query ? `&${query}` : ''}${from ? `&from=${from}` : ''}`);
      expect(res.status).toBe(200);
      pages.push(res.body.logs);
      from = res.body.next;
    } while (from);
    return { pages, all: pages.flat() };
  }

  it('refuses a call without a valid token with 401', async () => {
    expect((await gw.api('GET', '/api/v2/logs', undefined, null)).status).toBe(401);
    expect((await gw.api('GET', `/api/v2/logs/${events[0].log_id}`, undefined, 'wrong')).status).toBe(401);
  });

  it('pages through every event once, in log_id order, with `next` the last log_id of a full page', async () => {
    const first = await gw.api('GET', '/api/v2/logs');
    expect(first.body.logs).toEqual(events.slice(0, 50));
    expect(first.body.next).toBe(events[49].log_id);
    const { pages, all } = await pageThrough('');
    expect(pages.map((p) => p.length)).toEqual([100, 100, 100]);
    expect(all).toEqual(events);
  });

  it('starts after `from`, exclusive', async () => {
    const res = await gw.api('GET', `/api/v2/logs?from=${events[123].log_id}&take=3`);
    expect(res.body.logs.map((e: LogEvent) => e.log_id)).toEqual(events.slice(124, 127).map((e) => e.log_id));
  });

  it.each([
    ['type=srrt', (e: LogEvent) => e.type === 'srrt'],
    ['user_id=auth0%7Cuser-3', (e: LogEvent) => e.user_id === 'auth0|user-3'],
    ['connection=conn-2', (e: LogEvent) => e.connection === 'conn-2'],
    ['client_id=app-1', (e: LogEvent) => e.client_id === 'app-1'],
    ['from_date=2026-03-02T00:00:00Z', (e: LogEvent) => e.date >= '2026-03-02T00:00:00.000Z'],
    ['to_date=2026-03-02T00:00:00Z', (e: LogEvent) => e.date < '2026-03-02T00:00:00.000Z'],
    ['from_date=2026-03-01T12:00:00Z&to_date=2026-03-02T12:00:00Z', (e: LogEvent) => e.date >= '2026-03-01T12:00:00.000Z' && e.date < '2026-03-02T12:00:00.000Z'],
    [
      'type=universal_logout_failed&user_id=auth0%7Cuser-1&from_date=2026-03-02',
      (e: LogEvent) => e.type === 'universal_logout_failed' && e.user_id === 'auth0|user-1' && e.date >= '2026-03-02T00:00:00.000Z',
    ],
    ['user_id=nobody', () => false],
  ])('filters with %s, exactly', async (query, keep) => {
    const expected = events.filter(keep);
    const { all } = await pageThrough(query);
    expect(all).toEqual(expected);
  });

  it('answers GET /logs/{log_id} with the event, 404 for an unknown log_id', async () => {
    const res = await gw.api('GET', `/api/v2/logs/${events[7].log_id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(events[7]);
    const missing = await gw.api('GET', '/api/v2/logs/01KZZZZZZZZZZZZZZZZZZZZZZZ');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toMatch(/No log event with log_id 01KZZZZZZZZZZZZZZZZZZZZZZZ/);
  });

  it.each([
    ['take=0', /take must not be less than 1/],
    ['take=101', /take must not be greater than 100/],
    ['take=ten', /take must be an integer/],
    ['from=not-a-log-id', /from must be a log_id/],
    ['type=login_succeeded', /type must be one of: universal_logout_succeeded/],
    ['from_date=yesterday', /from_date must be an ISO 8601 date/],
    ['to_date=2026-13-01', /to_date must be an ISO 8601 date/],
    ['from_date=2026-03-02&to_date=2026-03-01', /from_date must be before to_date/],
    ['q=type:srrt', /property q should not exist/],
  ])('answers 400 with a clear message to ?%s', async (query, message) => {
    const res = await gw.api('GET', `/api/v2/logs?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.anything() });
    expect(JSON.stringify(res.body.message)).toMatch(message);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${gw.baseUrl}/api/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v2/logs', '/api/v2/logs/{log_id}', '/api/v2/log-streams', '/api/v2/log-streams/{id}']));
  });
});
