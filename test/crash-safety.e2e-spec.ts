import { Kafka, logLevel } from 'kafkajs';
import { AppProcess, FakeIdp, pollUntil, testConfig } from '@ulo/testing';
import { seedUser } from '../apps/gateway/test/revocation.fixtures';
import { RunningGateway, startGateway } from '../apps/gateway/test/gateway.harness';

/**
 * SPEC §2 "a 204 is a promise", crash safety: a consumer dies after its database commit and before its Kafka
 * offset commit. After a restart the event is redelivered, and the logout completes exactly once.
 */
describe('crash between the database commit and the offset commit', () => {
  let gw: RunningGateway;
  let idp: FakeIdp;
  const processes: AppProcess[] = [];
  const base = 'https://logout.example.com';
  const prefix = `${testConfig().kafka.topicPrefix}crash${Date.now().toString(36)}.`;
  const env = (extra: Record<string, string> = {}) => {
    const c = testConfig();
    return {
      DATABASE_URL: c.database.url,
      KAFKA_BROKERS: c.kafka.brokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      PUBLIC_BASE_URL: base,
      LOG_LEVEL: 'info',
      OUTBOX_POLL_INTERVAL_MS: '100',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      ...extra,
    };
  };
  const start = (app: string, extra?: Record<string, string>) => {
    const p = AppProcess.start(app, env(extra));
    processes.push(p);
    return p;
  };

  beforeAll(async () => {
    idp = await FakeIdp.start();
    gw = await startGateway({ KAFKA_TOPIC_PREFIX: prefix, PUBLIC_BASE_URL: base });
    expect(
      (await gw.api('POST', '/api/v2/connections', { name: 'acme-okta', strategy: 'okta', options: { issuer: idp.issuer, client_id: idp.clientId } }))
        .status,
    ).toBe(201);
  });
  afterAll(async () => {
    for (const p of processes) await p.stop();
    await gw.close();
    await idp.close();
  });

  it('completes the logout exactly once: no lost revocation, no duplicate log event', async () => {
    const ann = await seedUser(gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub: '00uAnn', sessions: 3, refreshTokens: 3 });
    // Offsets of this instance would be committed only after ten minutes: it dies long before.
    const doomed = start('session-terminator', { KAFKA_COMMIT_INTERVAL_MS: '600000' });
    start('refresh-token-revoker');

    const token = await idp.sign({ audience: `${base}/oauth/global-token-revocation/connection/acme-okta` });
    const res = await fetch(`${gw.baseUrl}/oauth/global-token-revocation/connection/acme-okta`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub_id: { format: 'iss_sub', iss: idp.issuer, sub: '00uAnn' } }),
    });
    expect(res.status).toBe(204);

    const activeSessions = async () =>
      Number((await gw.dataSource.query(`SELECT count(*) AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL`, [ann.userId]))[0].n);
    await pollUntil(activeSessions, (n) => n === 0, { timeoutMs: 30000, what: 'the first instance to terminate the sessions' });
    // And its announcement published (the relay deletes a row once Kafka acknowledged it): the kill
    // falls between the database commit and the offset commit, not inside the relay's own
    // send-then-delete window, where a re-send is the outbox's documented at-least-once.
    const announcementsQueued = async () =>
      Number((await gw.dataSource.query(`SELECT count(*) AS n FROM outbox WHERE topic = $1`, [`${prefix}sessions-terminated.v1`]))[0].n);
    await pollUntil(announcementsQueued, (n) => n === 0, { timeoutMs: 30000, what: 'the announcement to be published' });
    await doomed.crash();

    const kafka = new Kafka({ brokers: testConfig().kafka.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const committed = async () => {
      const [topic] = await admin.fetchOffsets({ groupId: `${prefix}session-terminator`, topics: [`${prefix}logout-requested.v1`] });
      return topic.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    };
    try {
      // Whatever kafkajs managed to commit before the kill (it may commit on a rebalance), rewind the
      // group to before the event: exactly the state of a crash between the two commits.
      const group = `${prefix}session-terminator`;
      await pollUntil(
        async () => (await admin.describeGroups([group])).groups[0].state,
        (state) => state === 'Empty' || state === 'Dead',
        { timeoutMs: 30000, intervalMs: 250, what: 'the dead member to leave the group' },
      );
      const partitions = (await admin.fetchTopicOffsets(`${prefix}logout-requested.v1`)).map((p) => ({ partition: p.partition, offset: p.low }));
      await admin.setOffsets({ groupId: group, topic: `${prefix}logout-requested.v1`, partitions });
      expect(await committed()).toBe(0);

      start('session-terminator');
      await pollUntil(committed, (n) => n === 1, { timeoutMs: 45000, intervalMs: 250, what: 'the restarted instance to commit the redelivered event' });
      // Announced once for back-channel logout: the redelivery published nothing.
      const announced = await pollUntil(
        async () => (await admin.fetchTopicOffsets(`${prefix}sessions-terminated.v1`)).reduce((sum, p) => sum + Number(p.high), 0),
        (n) => n >= 1,
        { what: 'sessions-terminated to be published' },
      );
      expect(announced).toBe(1);
    } finally {
      await admin.disconnect();
    }

    const logs = await pollUntil(
      () => gw.dataSource.query(`SELECT type, count(*)::int AS n FROM log_events GROUP BY type ORDER BY type`),
      (rows: { type: string }[]) => rows.some((r) => r.type === 'universal_logout_succeeded'),
      { what: 'the success log' },
    );
    expect(logs).toEqual([
      { type: 'sapi', n: 1 }, // the connection's creation
      { type: 'srrt', n: 3 },
      { type: 'universal_logout_succeeded', n: 1 },
    ]);
    expect(await activeSessions()).toBe(0);
    const [request] = await gw.dataSource.query(`SELECT id, sessions_revoked, refresh_tokens_revoked FROM logout_requests`);
    expect(request).toMatchObject({ sessions_revoked: 3, refresh_tokens_revoked: 3 });
    // Revoked once, by this request.
    expect(await gw.dataSource.query(`SELECT DISTINCT revoked_by FROM sessions WHERE user_id = $1`, [ann.userId])).toEqual([
      { revoked_by: request.id },
    ]);
  });
});
