import { Kafka, logLevel } from 'kafkajs';
import { FakeIdp, pollUntil } from '@ulo/testing';
import { seedUser } from '../apps/gateway/test/revocation.fixtures';
import { RunningPipeline, startPipeline } from './support/pipeline';

/** SPEC §2-§3 end to end: Okta POSTs a logout; every session and refresh token of the user dies. */
describe('Universal Logout end to end', () => {
  let p: RunningPipeline;
  let idp: FakeIdp;
  const base = 'https://logout.example.com';

  beforeAll(async () => {
    idp = await FakeIdp.start();
    p = await startPipeline({ PUBLIC_BASE_URL: base });
    const created = await p.gw.api('POST', '/api/v2/connections', {
      name: 'acme-okta',
      strategy: 'okta',
      options: { issuer: idp.issuer, client_id: idp.clientId },
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await p.close();
    await idp.close();
  });

  it('revokes every session and refresh token of the user, logs once, and leaves another user untouched', async () => {
    const ann = await seedUser(p.gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub: '00uAnn', sessions: 3, refreshTokens: 4 });
    const bob = await seedUser(p.gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub: '00uBob', sessions: 2, refreshTokens: 2 });
    const token = await idp.sign({ audience: `${base}/oauth/global-token-revocation/connection/acme-okta` });

    const res = await fetch(`${p.gw.baseUrl}/oauth/global-token-revocation/connection/acme-okta`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'user-agent': 'Okta-Universal-Logout' },
      body: JSON.stringify({ sub_id: { format: 'iss_sub', iss: idp.issuer, sub: '00uAnn' } }),
    });
    expect(res.status).toBe(204);

    const annPath = encodeURIComponent(ann.userId);
    await pollUntil(
      async () => [
        (await p.gw.api('GET', `/api/v2/users/${annPath}/sessions`)).body.sessions.length,
        (await p.gw.api('GET', `/api/v2/users/${annPath}/refresh-tokens`)).body.tokens.length,
      ],
      ([s, t]) => s === 0 && t === 0,
      { what: "Ann's sessions and refresh tokens to be revoked" },
    );
    for (const id of ann.sessionIds) expect((await p.gw.api('GET', `/api/v2/sessions/${id}`)).status).toBe(404);
    for (const id of ann.refreshTokenIds) expect((await p.gw.api('GET', `/api/v2/refresh-tokens/${id}`)).status).toBe(404);

    const bobPath = encodeURIComponent(bob.userId);
    expect((await p.gw.api('GET', `/api/v2/users/${bobPath}/sessions`)).body.sessions).toHaveLength(2);
    expect((await p.gw.api('GET', `/api/v2/users/${bobPath}/refresh-tokens`)).body.tokens).toHaveLength(2);

    const succeeded = await pollUntil(
      () => p.gw.dataSource.query(`SELECT data FROM log_events WHERE type = 'universal_logout_succeeded'`),
      (rows) => rows.length > 0,
      { what: 'universal_logout_succeeded' },
    );
    expect(succeeded).toHaveLength(1);
    expect(succeeded[0].data).toMatchObject({
      type: 'universal_logout_succeeded',
      connection: 'acme-okta',
      user_id: ann.userId,
      user_agent: 'Okta-Universal-Logout',
      details: { request_id: expect.any(String), sessions_revoked: 3, refresh_tokens_revoked: 4 },
    });
    const srrt = await p.gw.dataSource.query(`SELECT data FROM log_events WHERE type = 'srrt' ORDER BY log_id`);
    expect(srrt.map((r: { data: { details: { credential_id: string } } }) => r.data.details.credential_id).sort()).toEqual(
      [...ann.refreshTokenIds].sort(),
    );

    // The terminated sessions, with the clients that took part, are announced for back-channel logout.
    const terminated = await readTopic(`${p.config.kafka.topicPrefix}sessions-terminated.v1`, 1);
    expect(terminated[0]).toMatchObject({
      type: 'sessions-terminated',
      version: 1,
      correlationId: succeeded[0].data.details.request_id,
      payload: { initiator: 'idp-logout', chunk: 0, allSessions: true },
    });
    expect(terminated[0].payload.sessions.map((s: { sessionId: string }) => s.sessionId).sort()).toEqual([...ann.sessionIds].sort());
    expect(terminated[0].payload.sessions[0].clientIds).toEqual(['client-a']);

    // Every log event is published to <prefix>log-events, keyed by log_id: the sapi of the
    // connection's creation first, then those of the logout.
    const published = await readTopic(`${p.config.kafka.topicPrefix}log-events`, 6);
    expect(published.map((e: { type: string }) => e.type).sort()).toEqual(['sapi', ...Array(4).fill('srrt'), 'universal_logout_succeeded'].sort());
    expect(published.find((e: { type: string }) => e.type === 'sapi')).toMatchObject({
      description: 'Create /api/v2/connections',
      details: { request: { method: 'POST', path: '/api/v2/connections' }, response: { statusCode: 201 } },
    });
  });

  async function readTopic(topic: string, count: number): Promise<any[]> {
    const kafka = new Kafka({ brokers: p.config.kafka.brokers, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `reader-${Math.random()}`, maxWaitTimeInMs: 100 });
    const seen: any[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(JSON.parse(message.value!.toString())) });
      await pollUntil(async () => seen.length, (n) => n >= count, { what: `${count} message(s) on ${topic}` });
    } finally {
      await consumer.disconnect();
    }
    return seen;
  }
});
