import { ulid } from 'ulid';
import { LogEventType } from '@ulo/contracts';
import { pollUntil } from '@ulo/testing';
import { RunningGateway, startGateway } from '../apps/gateway/test/gateway.harness';

interface Bucket {
  at: string;
  accepted: number;
  completed: number;
  rejected: number;
  deliveries_failed: number;
}

type Counted = Exclude<keyof Bucket, 'at'>;

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/**
 * `GET /api/v2/stats/throughput` against the real gateway: rows written at known times, read back
 * over HTTP bucket by bucket, then rejections of real revocation requests, aggregated or not.
 */
describe('Management API: throughput', () => {
  let gw: RunningGateway;
  /** What each bucket should count: every row the test wrote, by the instant it names and its series. */
  const expected: { at: number; series: Counted; n: number }[] = [];
  // Two minutes ago, on a whole second.
  const base = Math.floor(Date.now() / SECOND) * SECOND - 2 * MINUTE;

  beforeAll(async () => {
    gw = await startGateway({
      // One rejection a second is written alone, the rest are counted into an event a second.
      GTR_REJECTION_LOG_PER_SECOND: '1',
      GTR_REJECTION_LOG_INTERVAL_SECONDS: '1',
      // The requests written here are never complete: no re-announcing them.
      LOGOUT_STUCK_AFTER_SECONDS: '86400',
    });
  });
  afterAll(async () => gw.close());

  async function logoutRequest(id: string, createdAt: number, completedAt: number | null): Promise<void> {
    await gw.dataSource.query(
      `INSERT INTO logout_requests (id, initiator, user_ids, payload, created_at, completed_at) VALUES ($1, 'idp-logout', '{}', '{}', $2, $3)`,
      [id, new Date(createdAt), completedAt === null ? null : new Date(completedAt)],
    );
  }

  async function logEvent(type: LogEventType, at: number, details: Record<string, unknown> = {}): Promise<void> {
    const event = { log_id: ulid(at), date: new Date(at).toISOString(), type, description: '', connection: null, client_id: null, user_id: null, details };
    await gw.dataSource.query(
      `INSERT INTO log_events (log_id, date, type, user_id, connection, client_id, data) VALUES ($1, $2, $3, NULL, NULL, NULL, $4)`,
      [event.log_id, event.date, type, JSON.stringify(event)],
    );
  }

  const stats = (query: string) => gw.api('GET', `/api/v2/stats/throughput${query}`);

  /** The buckets a response should hold: its layout, each counting the expected rows that fall in it. */
  function bucketsOf(body: { from: string; to: string; bucket_seconds: number }, starts: number[]): Bucket[] {
    const buckets = starts.map((at) => ({ at: new Date(at).toISOString(), accepted: 0, completed: 0, rejected: 0, deliveries_failed: 0 }));
    const end = Date.parse(body.to) + body.bucket_seconds * SECOND;
    for (const e of expected) {
      if (e.at < Date.parse(body.from) || e.at >= end) continue;
      const i = starts.findLastIndex((s) => s <= e.at);
      buckets[i][e.series] += e.n;
    }
    return buckets;
  }

  it('counts accepted and completed requests, rejections (an aggregated one as its count) and failed deliveries in 1 s buckets over 5 minutes', async () => {
    await logoutRequest('lr-1', base + 100, base + 2 * SECOND + 300);
    await logoutRequest('lr-2', base + 999, null);
    await logoutRequest('lr-3', base + 5 * SECOND, null);
    // Accepted two hours ago, complete only now: counted by its completion, however long it took.
    await logoutRequest('lr-long', base - 2 * 60 * MINUTE, base + 2 * SECOND + 900);
    // Before the 5-minute window (in the 60-minute one).
    await logoutRequest('lr-early', base - 8 * MINUTE, null);
    await logEvent('universal_logout_failed', base + 3 * SECOND + 1);
    await logEvent('universal_logout_failed', base + 3 * SECOND + 500, { aggregated: { count: 7, by_status: { 401: 7 }, sample: [] } });
    await logEvent('universal_logout_failed', base + 4 * SECOND);
    await logEvent('oidc_backchannel_logout_failed', base + 4 * SECOND + 10, { response: { statusCode: 503 } });
    await logEvent('oidc_backchannel_logout_failed', base + 4 * SECOND + 999);
    // Neither a rejection nor a failed delivery.
    await logEvent('universal_logout_succeeded', base + 3 * SECOND);
    await logEvent('oidc_backchannel_logout_succeeded', base + 4 * SECOND);
    await logEvent('universal_logout_failed', base - 6 * MINUTE);
    expected.push(
      { at: base + 100, series: 'accepted', n: 1 },
      { at: base + 999, series: 'accepted', n: 1 },
      { at: base + 5 * SECOND, series: 'accepted', n: 1 },
      { at: base - 8 * MINUTE, series: 'accepted', n: 1 },
      { at: base + 2 * SECOND + 300, series: 'completed', n: 1 },
      { at: base + 2 * SECOND + 900, series: 'completed', n: 1 },
      { at: base + 3 * SECOND + 1, series: 'rejected', n: 1 },
      { at: base + 3 * SECOND + 500, series: 'rejected', n: 7 },
      { at: base + 4 * SECOND, series: 'rejected', n: 1 },
      { at: base + 4 * SECOND + 10, series: 'deliveries_failed', n: 1 },
      { at: base + 4 * SECOND + 999, series: 'deliveries_failed', n: 1 },
      { at: base - 6 * MINUTE, series: 'rejected', n: 1 },
    );

    const before = Math.floor(Date.now() / SECOND) * SECOND;
    const res = await stats('?minutes=5');
    const after = Date.now();
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['from', 'to', 'bucket_seconds', 'buckets']);
    const to = Date.parse(res.body.to);
    expect(to).toBeGreaterThanOrEqual(before);
    expect(to).toBeLessThanOrEqual(after);
    expect(to % SECOND).toBe(0);
    expect(res.body.bucket_seconds).toBe(1);
    expect(res.body.from).toBe(new Date(to - 5 * MINUTE).toISOString());
    // One bucket a second from `from` to `to`, oldest first, the last one the current second.
    const starts = Array.from({ length: 301 }, (_, i) => to - 5 * MINUTE + i * SECOND);
    expect(res.body.buckets).toHaveLength(301);
    expect(res.body.buckets).toEqual(bucketsOf(res.body, starts));

    // The same, spelled out for the seconds that hold something; every other bucket is zeros.
    const at = (ms: number) => res.body.buckets.find((b: Bucket) => b.at === new Date(ms).toISOString());
    expect(at(base)).toEqual({ at: new Date(base).toISOString(), accepted: 2, completed: 0, rejected: 0, deliveries_failed: 0 });
    expect(at(base + 2 * SECOND)).toMatchObject({ accepted: 0, completed: 2, rejected: 0, deliveries_failed: 0 });
    expect(at(base + 3 * SECOND)).toMatchObject({ accepted: 0, completed: 0, rejected: 8, deliveries_failed: 0 });
    expect(at(base + 4 * SECOND)).toMatchObject({ accepted: 0, completed: 0, rejected: 1, deliveries_failed: 2 });
    expect(at(base + 5 * SECOND)).toMatchObject({ accepted: 1, completed: 0, rejected: 0, deliveries_failed: 0 });
    const busy = res.body.buckets.filter((b: Bucket) => b.accepted + b.completed + b.rejected + b.deliveries_failed > 0);
    expect(busy.map((b: Bucket) => b.at)).toEqual([0, 2, 3, 4, 5].map((s) => new Date(base + s * SECOND).toISOString()));
  });

  it('has 12 s buckets on the epoch grid over 60 minutes, and a shorter first bucket when the window is no multiple of the bucket', async () => {
    const hour = await stats('?minutes=60');
    expect(hour.status).toBe(200);
    const to = Date.parse(hour.body.to);
    expect(hour.body.bucket_seconds).toBe(12);
    expect(to % (12 * SECOND)).toBe(0);
    expect(hour.body.from).toBe(new Date(to - 60 * MINUTE).toISOString());
    const starts = Array.from({ length: 301 }, (_, i) => to - 60 * MINUTE + i * 12 * SECOND);
    expect(hour.body.buckets).toHaveLength(301);
    expect(hour.body.buckets).toEqual(bucketsOf(hour.body, starts));
    const total = (series: Counted) => hour.body.buckets.reduce((n: number, b: Bucket) => n + b[series], 0);
    expect([total('accepted'), total('completed'), total('rejected'), total('deliveries_failed')]).toEqual([4, 2, 10, 2]);

    // 31 minutes: 7 s buckets (ceil(1860 / 300)); 1860 s is no multiple of 7, so the first bucket
    // starts at `from` and lasts until the grid's next multiple of 7 s.
    const odd = await stats('?minutes=31');
    expect(odd.status).toBe(200);
    const oddTo = Date.parse(odd.body.to);
    const oddFrom = oddTo - 31 * MINUTE;
    expect(odd.body.bucket_seconds).toBe(7);
    expect(oddTo % (7 * SECOND)).toBe(0);
    expect(odd.body.from).toBe(new Date(oddFrom).toISOString());
    const firstOnGrid = Math.ceil(oddFrom / (7 * SECOND)) * 7 * SECOND;
    const oddStarts = [oddFrom, ...Array.from({ length: 266 }, (_, i) => firstOnGrid + i * 7 * SECOND)];
    expect(oddStarts[oddStarts.length - 1]).toBe(oddTo);
    expect(odd.body.buckets).toHaveLength(267);
    expect(odd.body.buckets).toEqual(bucketsOf(odd.body, oddStarts));

    // The default window is 5 minutes.
    const byDefault = await stats('');
    expect(byDefault.status).toBe(200);
    expect(byDefault.body.bucket_seconds).toBe(1);
    expect(byDefault.body.buckets).toHaveLength(301);
    expect(Date.parse(byDefault.body.to) - Date.parse(byDefault.body.from)).toBe(5 * MINUTE);
  });

  it('counts each real rejected revocation request once, whether logged alone or counted into an aggregated event', async () => {
    const started = new Date();
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${gw.baseUrl}/oauth/global-token-revocation/connection/no-such-connection`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sub_id: { format: 'opaque', id: 'x' } }),
      });
      expect(res.status).toBe(404);
    }
    type Row = { date: Date; data: { details: { aggregated?: { count: number } } } };
    const rows: Row[] = await pollUntil(
      // An aggregated event names no connection when the name was of none.
      () => gw.dataSource.query(`SELECT date, data FROM log_events WHERE type = 'universal_logout_failed' AND date >= $1`, [started]),
      (r: Row[]) => r.reduce((n, row) => n + (row.data.details.aggregated?.count ?? 1), 0) === 6,
      { what: 'the six rejections logged or counted' },
    );
    // Budget of one a second: at least the first alone, the others counted.
    expect(rows.some((r) => r.data.details.aggregated !== undefined)).toBe(true);
    for (const r of rows) expected.push({ at: r.date.getTime(), series: 'rejected', n: r.data.details.aggregated?.count ?? 1 });

    const res = await stats('?minutes=5');
    expect(res.status).toBe(200);
    const to = Date.parse(res.body.to);
    const starts = Array.from({ length: 301 }, (_, i) => to - 5 * MINUTE + i * SECOND);
    expect(res.body.buckets).toEqual(bucketsOf(res.body, starts));
    expect(res.body.buckets.reduce((n: number, b: Bucket) => n + b.rejected, 0)).toBe(9 + 6);
  });

  it('refuses a call without a token with 401, and minutes that are not an integer from 1 to 60 with 400', async () => {
    const anonymous = await gw.api('GET', '/api/v2/stats/throughput?minutes=5', undefined, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'Missing bearer token' });
    for (const [minutes, message] of [
      ['0', ['minutes must not be less than 1']],
      ['61', ['minutes must not be greater than 60']],
      ['x', ['minutes must not be greater than 60', 'minutes must not be less than 1', 'minutes must be an integer number']],
    ] as const) {
      const res = await stats(`?minutes=${minutes}`);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message });
    }
    for (const minutes of ['1.5', '0x10', '1e1', '', '-5', '5&minutes=6']) {
      const res = await stats(`?minutes=${minutes}`);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('Bad Request');
    }
  });

  it('is in the OpenAPI document with its query and its response', async () => {
    type Doc = {
      paths: Record<string, { get: { parameters: { name: string; in: string }[]; responses: Record<string, { content: Record<string, { schema: { $ref: string } }> }> } }>;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    const doc = (await (await fetch(`${gw.baseUrl}/api/openapi.json`)).json()) as Doc;
    const get = doc.paths['/api/v2/stats/throughput'].get;
    expect(get.parameters.map((p) => [p.name, p.in])).toEqual([['minutes', 'query']]);
    expect(get.responses['200'].content['application/json'].schema.$ref).toBe('#/components/schemas/ThroughputView');
    expect(Object.keys(doc.components.schemas.ThroughputView.properties)).toEqual(['from', 'to', 'bucket_seconds', 'buckets']);
    expect(Object.keys(doc.components.schemas.ThroughputBucket.properties)).toEqual(['at', 'accepted', 'completed', 'rejected', 'deliveries_failed']);
  });
});
