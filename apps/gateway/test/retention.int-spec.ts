import { encodeTime, ulid } from 'ulid';
import { RetentionPruner } from '../src/retention/retention.pruner';
import { RunningGateway, startGateway } from './gateway.harness';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The retention prune (LOG_RETENTION_DAYS 30, LOGOUT_REQUEST_RETENTION_DAYS 30,
 * PARKED_DELIVERY_RETENTION_DAYS 90, REVOKED_CREDENTIAL_RETENTION_DAYS 7, the defaults): what is
 * older goes, what is newer and what is still needed stays.
 */
describe('retention: the prune keeps the database bounded', () => {
  let gw: RunningGateway;
  const query = <T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> => gw.dataSource.query(sql, params);
  const ids = async (table: string, column = 'id') =>
    (await query<{ id: string }>(`SELECT ${column} AS id FROM ${table} ORDER BY ${column}`)).map((r) => r.id);

  beforeAll(async () => {
    gw = await startGateway({ RETENTION_PRUNE_INTERVAL_MS: '3600000' });
  });
  afterAll(async () => gw.close());

  beforeEach(async () => {
    await query(`TRUNCATE users, logout_requests, backchannel_deliveries, log_events, log_streams, log_stream_queue CASCADE`);
    await query(`INSERT INTO users (user_id) VALUES ('u1')`);
  });

  /** A row revoked `days` ago (null: active). */
  const credential = (days: number | null) => (days === null ? null : new Date(Date.now() - days * DAY_MS));

  it('deletes sessions and refresh tokens revoked more than 7 days ago, in chunks, and keeps the others', async () => {
    // 2,500 old sessions: more than one chunk of 1,000.
    await query(
      `INSERT INTO sessions (id, user_id, revoked_at, revoked_by)
       SELECT 'old-' || lpad(g::text, 4, '0'), 'u1', now() - interval '8 days', 'lr_old' FROM generate_series(1, 2500) g`,
    );
    await query(`INSERT INTO session_clients (session_id, client_id) VALUES ('old-0001', 'app-1')`);
    const sessions: [string, number | null][] = [
      ['s-recent', 6],
      ['s-active', null],
    ];
    for (const [id, days] of sessions) {
      await query(`INSERT INTO sessions (id, user_id, revoked_at) VALUES ($1, 'u1', $2)`, [id, credential(days)]);
    }
    const tokens: [string, number | null][] = [
      ['rt-old', 10],
      ['rt-recent', 1],
      ['rt-active', null],
    ];
    for (const [id, days] of tokens) {
      await query(`INSERT INTO refresh_tokens (id, user_id, client_id, revoked_at) VALUES ($1, 'u1', 'app-1', $2)`, [id, credential(days)]);
    }

    const report = await gw.app.get(RetentionPruner).prune();

    expect(report.sessions).toBe(2500);
    expect(report.refreshTokens).toBe(1);
    expect(await ids('sessions')).toEqual(['s-active', 's-recent']);
    expect(await ids('refresh_tokens')).toEqual(['rt-active', 'rt-recent']);
    expect(await query(`SELECT count(*)::int AS n FROM session_clients`)).toEqual([{ n: 0 }]);
  });

  /** A logout request complete `completedDays` ago (null: not complete), accepted a day before that. */
  async function request(id: string, completedDays: number | null, deliveries: { status: string; updatedDays: number }[] = []) {
    await query(
      `INSERT INTO logout_requests (id, initiator, user_ids, payload, created_at, completed_at)
       VALUES ($1, 'idp-logout', '{u1}', '{}', $2, $3)`,
      [id, new Date(Date.now() - ((completedDays ?? 40) + 1) * DAY_MS), credential(completedDays)],
    );
    for (const [i, d] of deliveries.entries()) {
      await query(
        `INSERT INTO backchannel_deliveries (id, request_id, session_id, user_id, client_id, url, initiator, status, updated_at)
         VALUES ($1, $2, $3, 'u1', 'app-1', 'https://app.example/bc', 'idp-logout', $4, $5)`,
        [`${id}-d${i}`, id, `sess-${i}`, d.status, new Date(Date.now() - d.updatedDays * DAY_MS)],
      );
    }
  }

  it('deletes logout requests complete for more than 30 days with their deliveries, except what is still needed', async () => {
    await request('lr-old', 31, [
      { status: 'succeeded', updatedDays: 31 },
      { status: 'failed', updatedDays: 31 },
    ]);
    await request('lr-recent', 29, [{ status: 'succeeded', updatedDays: 29 }]);
    await request('lr-incomplete', null);
    await request('lr-old-pending', 40, [{ status: 'pending', updatedDays: 40 }]);
    await request('lr-old-parked', 40, [{ status: 'parked', updatedDays: 40 }]);
    await request('lr-parked-long-ago', 100, [{ status: 'parked', updatedDays: 91 }]);

    const report = await gw.app.get(RetentionPruner).prune();

    expect({ requests: report.logoutRequests, deliveries: report.deliveries }).toEqual({ requests: 2, deliveries: 3 });
    expect(await ids('logout_requests')).toEqual(['lr-incomplete', 'lr-old-parked', 'lr-old-pending', 'lr-recent']);
    expect(await ids('backchannel_deliveries')).toEqual(['lr-old-parked-d0', 'lr-old-pending-d0', 'lr-recent-d0']);
  });

  it('drops the days of the log older than 30 days, keeps a day with an event queued for a paused stream', async () => {
    const dayStart = (daysAgo: number) => Math.floor((Date.now() - daysAgo * DAY_MS) / DAY_MS) * DAY_MS;
    const nameOf = (daysAgo: number) => `log_events_${new Date(dayStart(daysAgo)).toISOString().slice(0, 10).replace(/-/g, '')}`;
    // Two past days with partitions of their own (as the migration makes for the days a log holds).
    for (const daysAgo of [35, 33]) {
      await query(`DROP TABLE IF EXISTS ${nameOf(daysAgo)}`);
      await query(
        `CREATE TABLE ${nameOf(daysAgo)} PARTITION OF log_events FOR VALUES FROM ('${encodeTime(dayStart(daysAgo), 10)}') TO ('${encodeTime(dayStart(daysAgo) + DAY_MS, 10)}')`,
      );
    }
    const at = (daysAgo: number) => ulid(dayStart(daysAgo) + 3_600_000);
    // 34 days ago had no partition: that event is in the default one; 2 days ago likewise, but recent.
    const events = { old: at(35), outsideDays: at(34), queued: at(33), recent: at(2) };
    for (const logId of Object.values(events)) {
      await query(`INSERT INTO log_events (log_id, date, type, data) VALUES ($1, now(), 'sapi', '{}')`, [logId]);
    }
    await query(
      `INSERT INTO log_streams (id, name, type, status, sink, filters, categories)
       VALUES ('lst_paused', 'paused', 'http', 'paused', '{}', '[]', '{}')`,
    );
    await query(`INSERT INTO log_stream_queue (stream_id, log_id) VALUES ('lst_paused', $1)`, [events.queued]);

    const report = await gw.app.get(RetentionPruner).prune();

    expect(await ids('log_events', 'log_id')).toEqual([events.queued, events.recent]);
    expect(report.logPartitionsDropped).toEqual([{ name: nameOf(35), rows: 1 }]);
    expect(report.logPartitionsKept).toEqual([{ name: nameOf(33), reason: 'events queued for log stream lst_paused' }]);
    expect(report.logEventsOutsideDays).toBe(1);
    const partitions = (
      await query<{ name: string }>(`SELECT inhrelid::regclass::text AS name FROM pg_inherits WHERE inhparent = 'log_events'::regclass`)
    ).map((r) => r.name);
    expect(partitions).not.toContain(nameOf(35));
    // Today and the next 3 days have their partitions.
    for (const daysAhead of [0, 1, 2, 3]) expect(partitions).toContain(nameOf(-daysAhead));
  });

  it('GET /api/v2/retention reports the retention in force', async () => {
    const res = await gw.api('GET', '/api/v2/retention');
    expect(res.status).toBe(200);
    const prefix = gw.config.kafka.topicPrefix;
    expect(res.body).toEqual({
      log_days: 30,
      logout_request_days: 30,
      parked_delivery_days: 90,
      revoked_credential_days: 7,
      prune_interval_ms: 3600000,
      kafka_topics: {
        [`${prefix}logout-requested.v1`]: { retention_ms: 604800000 },
        [`${prefix}sessions-terminated.v1`]: { retention_ms: 604800000 },
        [`${prefix}dead-letter.v1`]: { retention_ms: 2592000000 },
        [`${prefix}log-events`]: { retention_ms: 604800000 },
      },
    });
    expect((await gw.api('GET', '/api/v2/retention', undefined, null)).status).toBe(401);
  });
});
