import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Envelope, LogoutRequested, Topics, prefixed } from '@ulo/contracts';
import { deleteTopicsWithPrefix, pollUntil, testConfig, uniqueSuffix } from '@ulo/testing';
import { StuckLogoutSweeper } from '../src/logouts/stuck-logout.sweeper';
import { RunningGateway, startGateway } from './gateway.harness';

/** SPEC §8: a logout request not complete after LOGOUT_STUCK_AFTER_SECONDS is announced again. */
describe('StuckLogoutSweeper', () => {
  const prefix = `${testConfig().kafka.topicPrefix}stuck${uniqueSuffix()}.`;
  const topic = prefixed(prefix, Topics.logoutRequested);
  const kafka = new Kafka({ brokers: testConfig().kafka.brokers, logLevel: logLevel.NOTHING });
  let gw: RunningGateway;
  let sweeper: StuckLogoutSweeper;

  beforeAll(async () => {
    gw = await startGateway({ KAFKA_TOPIC_PREFIX: prefix, LOGOUT_STUCK_AFTER_SECONDS: '60' });
    sweeper = gw.app.get(StuckLogoutSweeper);
    // Only the sweeps of the test: the periodic one (every 15 s here) would race them.
    await sweeper.beforeApplicationShutdown();
  });
  afterAll(async () => {
    await gw.close();
    await deleteTopicsWithPrefix(kafka, prefix);
  });

  /** A logout request accepted `ageSeconds` ago, complete `completedSecondsAgo` ago (or not). */
  async function insertRequest(ageSeconds: number, completedSecondsAgo: number | null): Promise<{ id: string; payload: LogoutRequested }> {
    const id = randomUUID();
    const userId = `user|${randomUUID()}`;
    const payload: LogoutRequested = {
      requestId: id,
      initiator: 'idp-logout',
      userIds: [userId],
      connection: { id: 'con_1', name: 'acme-okta' },
      sessions: { mode: 'all' },
      refreshTokens: { mode: 'all' },
      acceptedAt: new Date(Date.now() - ageSeconds * 1000).toISOString(),
    };
    await gw.dataSource.query(
      `INSERT INTO logout_requests (id, initiator, connection_id, connection_name, user_ids, payload, created_at, completed_at,
                                    sessions_revoked, refresh_tokens_revoked)
       VALUES ($1, 'idp-logout', 'con_1', 'acme-okta', $2, $3, now() - make_interval(secs => $4),
               CASE WHEN $5::float8 IS NULL THEN NULL ELSE now() - make_interval(secs => $5::float8) END,
               CASE WHEN $5::float8 IS NULL THEN NULL ELSE 1 END, CASE WHEN $5::float8 IS NULL THEN NULL ELSE 1 END)`,
      [id, [userId], JSON.stringify(payload), ageSeconds, completedSecondsAgo],
    );
    return { id, payload };
  }

  async function reannouncedTotal(): Promise<number> {
    const res = await fetch(`${gw.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    const line = /^ulo_logout_requests_reannounced_total (\d+)$/m.exec(await res.text());
    expect(line).not.toBeNull();
    return Number(line![1]);
  }

  /** Every logout-requested event on this test's topic, once the relay has published what the outbox holds. */
  async function published(): Promise<{ key: string | null; envelope: Envelope<LogoutRequested> }[]> {
    await pollUntil(
      async () => Number((await gw.dataSource.query(`SELECT count(*)::int AS n FROM outbox WHERE topic = $1`, [topic]))[0].n),
      (n) => n === 0,
      { what: 'the outbox to be published' },
    );
    const admin = kafka.admin();
    await admin.connect();
    const count = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
    await admin.disconnect();
    const seen: { key: string | null; envelope: Envelope<LogoutRequested> }[] = [];
    if (count === 0) return seen;
    const consumer = kafka.consumer({ groupId: `${prefix}reader-${uniqueSuffix()}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) =>
          void seen.push({ key: message.key?.toString() ?? null, envelope: JSON.parse(message.value!.toString()) as Envelope<LogoutRequested> }),
      });
      await pollUntil(async () => seen.length, (n) => n >= count, { what: `${count} logout-requested events` });
    } finally {
      await consumer.disconnect();
    }
    return seen;
  }

  it('re-announces exactly the request that is incomplete after 60 s, once per period, and counts it', async () => {
    const stuck = await insertRequest(120, null);
    const completed = await insertRequest(120, 100);
    const recent = await insertRequest(1, null);
    const before = await reannouncedTotal();

    expect(await sweeper.sweep()).toBe(1);

    const events = await published();
    expect(events).toHaveLength(1);
    const [{ key, envelope }] = events;
    const [stored] = await gw.dataSource.query(`SELECT payload FROM logout_requests WHERE id = $1`, [stuck.id]);
    expect(key).toBe(stuck.payload.userIds[0]);
    expect(envelope).toMatchObject({ type: 'logout-requested', version: 1, correlationId: stuck.id });
    expect(envelope.payload).toEqual(stored.payload);
    expect(envelope.payload).toEqual(stuck.payload);
    const rows: { id: string; reannouncements: number; announced: boolean }[] = await gw.dataSource.query(
      `SELECT id, reannouncements, announced_at IS NOT NULL AS announced FROM logout_requests`,
    );
    expect(rows.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [
        { id: stuck.id, reannouncements: 1, announced: true },
        { id: completed.id, reannouncements: 0, announced: false },
        { id: recent.id, reannouncements: 0, announced: false },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    expect(await reannouncedTotal()).toBe(before + 1);

    // Announced a moment ago: not again before another period has passed.
    expect(await sweeper.sweep()).toBe(0);
    expect(await published()).toHaveLength(1);
    expect(
      (await gw.dataSource.query(`SELECT reannouncements FROM logout_requests WHERE id = $1`, [stuck.id]))[0].reannouncements,
    ).toBe(1);
    expect(await reannouncedTotal()).toBe(before + 1);
  });
});
