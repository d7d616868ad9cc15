import { LogEvent } from '@ulo/contracts';
import { FakeIdp, pollUntil } from '@ulo/testing';
import { seedUser } from '../apps/gateway/test/revocation.fixtures';
import { LogReceiver } from '../apps/log-streamer/test/log-receiver';
import { RunningLogStreamer, startLogStreamer } from '../apps/log-streamer/test/log-streamer.harness';
import { RunningPipeline, startPipeline } from './support/pipeline';

/**
 * SPEC §5: the log events of Universal Logouts, through the whole pipeline (gateway, consumers,
 * log-streamer), read back with the query API and received by a log stream.
 */
describe('logs of a Universal Logout', () => {
  let p: RunningPipeline;
  let streamer: RunningLogStreamer;
  let idp: FakeIdp;
  let siem: LogReceiver;
  /** A stream of the Management API's writes only (categories management.*). */
  let audit: LogReceiver;
  let base: string;
  let ann: Awaited<ReturnType<typeof seedUser>>;
  let bob: Awaited<ReturnType<typeof seedUser>>;
  /** A moment after Ann's logout was logged and before Bob's. */
  let between: string;

  const logs = async (query: string): Promise<LogEvent[]> => {
    const all: LogEvent[] = [];
    let from: string | undefined;
    do {
      const res = await p.gw.api('GET', `/api/v2/logs?take=100&${query}${from ? `&from=${from}` : ''}`);
      expect(res.status).toBe(200);
      all.push(...res.body.logs);
      from = res.body.next;
    } while (from);
    return all;
  };
  const logout = async (sub: string, audience = `${base}/oauth/global-token-revocation/connection/acme-okta`) => {
    const token = await idp.sign({ audience });
    const res = await fetch(`${p.gw.baseUrl}/oauth/global-token-revocation/connection/acme-okta`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'user-agent': 'Okta-Universal-Logout' },
      body: JSON.stringify({ sub_id: { format: 'iss_sub', iss: idp.issuer, sub } }),
    });
    return res.status;
  };

  beforeAll(async () => {
    idp = await FakeIdp.start();
    p = await startPipeline();
    base = p.gw.config.publicBaseUrl;
    streamer = await startLogStreamer({ KAFKA_TOPIC_PREFIX: p.config.kafka.topicPrefix });
    audit = await LogReceiver.start();
    const auditStream = {
      name: 'audit',
      type: 'http',
      sink: { httpEndpoint: audit.url },
      filters: [
        { type: 'category', name: 'management.success' },
        { type: 'category', name: 'management.fail' },
      ],
    };
    expect((await p.gw.api('POST', '/api/v2/log-streams', auditStream)).status).toBe(201);
    expect(
      (await p.gw.api('POST', '/api/v2/connections', { name: 'acme-okta', strategy: 'okta', options: { issuer: idp.issuer, client_id: idp.clientId } }))
        .status,
    ).toBe(201);
    siem = await LogReceiver.start();
    const siemStream = {
      name: 'SIEM',
      type: 'http',
      sink: { httpEndpoint: siem.url },
      filters: ['auth.logout.success', 'auth.logout.fail', 'user.success'].map((name) => ({ type: 'category', name })),
    };
    expect((await p.gw.api('POST', '/api/v2/log-streams', siemStream)).status).toBe(201);

    ann = await seedUser(p.gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub: '00uAnn', sessions: 2, refreshTokens: 250, clientIds: ['client-a'] });
    bob = await seedUser(p.gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub: '00uBob', sessions: 1, refreshTokens: 3, clientIds: ['client-b'] });
    expect(await logout('00uAnn')).toBe(204);
    await pollUntil(() => logs(`type=universal_logout_succeeded&user_id=${encodeURIComponent(ann.userId)}`), (l) => l.length === 1, {
      what: "Ann's logout to be logged",
    });
    between = new Date().toISOString();
    expect(await logout('00uBob')).toBe(204);
    expect(await logout('00uBob', 'https://somewhere-else.example.com/')).toBe(401);
    await pollUntil(() => logs('connection=acme-okta'), (l) => l.length === 256, { what: 'every log event of both logouts' });
  });
  afterAll(async () => {
    await streamer.close();
    await p.close();
    await siem.close();
    await audit.close();
    await idp.close();
  });

  it('logs each logout, each revoked refresh token and the rejected request, queryable with each filter', async () => {
    const succeeded = await logs('type=universal_logout_succeeded');
    expect(succeeded.map((e) => e.user_id)).toEqual([ann.userId, bob.userId]);
    expect(succeeded[0]).toMatchObject({
      type: 'universal_logout_succeeded',
      connection: 'acme-okta',
      user_agent: 'Okta-Universal-Logout',
      details: { sessions_revoked: 2, refresh_tokens_revoked: 250 },
    });
    expect(succeeded[1].details).toMatchObject({ sessions_revoked: 1, refresh_tokens_revoked: 3 });

    const failed = await logs('type=universal_logout_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ connection: 'acme-okta', details: { error: 'invalid_token', response: { statusCode: 401 } } });
    expect((await p.gw.api('GET', `/api/v2/logs/${failed[0].log_id}`)).body).toEqual(failed[0]);

    const ofBob = await logs(`user_id=${encodeURIComponent(bob.userId)}`);
    expect(ofBob.map((e) => e.type).sort()).toEqual(['srrt', 'srrt', 'srrt', 'universal_logout_succeeded']);
    const ofClientB = await logs('client_id=client-b');
    expect(ofClientB.map((e) => e.details.credential_id).sort()).toEqual([...bob.refreshTokenIds].sort());
    expect(ofClientB.every((e) => e.type === 'srrt' && e.user_id === bob.userId)).toBe(true);

    const byConnection = await logs('connection=acme-okta');
    expect(byConnection).toHaveLength(256);
    expect((await logs('connection=another')).length).toBe(0);
    const after = await logs(`from_date=${between}`);
    expect(after.map((e) => e.log_id)).toEqual([...ofBob, ...failed].map((e) => e.log_id).sort());
    const before = await logs(`to_date=${between}`);
    // The setup's three Management API writes (two streams, a connection), then Ann's logout.
    expect(before.slice(0, 3).map((e) => e.type)).toEqual(['sapi', 'sapi', 'sapi']);
    expect(before.slice(3)).toHaveLength(251);
    expect(before.slice(3).every((e) => e.user_id === ann.userId)).toBe(true);

    // The log stream received every one of them, once.
    await pollUntil(async () => siem.distinctLogIds.size, (n) => n === 256, { what: 'the log stream' });
    expect([...siem.distinctLogIds].sort()).toEqual(byConnection.map((e) => e.log_id));
    expect(siem.logIds).toHaveLength(256);
  });

  it('pages through 250 events with take=100: each exactly once, in log_id order', async () => {
    const pages: LogEvent[][] = [];
    let from: string | undefined;
    do {
      const res = await p.gw.api('GET', `/api/v2/logs?type=srrt&user_id=${encodeURIComponent(ann.userId)}&take=100${from ? `&from=${from}` : ''}`);
      expect(res.status).toBe(200);
      pages.push(res.body.logs);
      from = res.body.next;
      if (from) expect(from).toBe(res.body.logs[res.body.logs.length - 1].log_id);
    } while (from);
    expect(pages.map((page) => page.length)).toEqual([100, 100, 50]);
    const ids = pages.flat().map((e) => e.log_id);
    expect(new Set(ids).size).toBe(250);
    expect(ids).toEqual([...ids].sort());
    expect(pages.flat().map((e) => e.details.credential_id).sort()).toEqual([...ann.refreshTokenIds].sort());
    const stored: { log_id: string }[] = await p.gw.dataSource.query(
      `SELECT log_id FROM log_events WHERE type = 'srrt' AND user_id = $1 ORDER BY log_id`,
      [ann.userId],
    );
    expect(ids).toEqual(stored.map((r) => r.log_id));
  });

  it('logs each Management API write, sapi or fapi, and streams them to a stream of management events only', async () => {
    const duplicate = await p.gw.api('POST', '/api/v2/connections', { name: 'acme-okta', strategy: 'okta', options: { issuer: idp.issuer } });
    expect(duplicate.status).toBe(409);
    const connection = (await p.gw.api('GET', '/api/v2/connections?name=acme-okta')).body.connections[0];
    const updated = await p.gw.api('PATCH', `/api/v2/connections/${connection.id}`, { options: { issuer: idp.issuer, client_id: idp.clientId } });
    expect(updated.status).toBe(200);

    const sapi = await logs('type=sapi');
    expect(sapi.map((e) => e.description)).toEqual([
      'Create /api/v2/log-streams',
      'Create /api/v2/connections',
      'Create /api/v2/log-streams',
      'Update /api/v2/connections/:id',
    ]);
    const fapi = await logs('type=fapi');
    expect(fapi).toHaveLength(1);
    expect(fapi[0]).toMatchObject({ description: duplicate.body.message, details: { response: { statusCode: 409 } } });

    // The audit stream existed before each of these writes: it receives all five, and nothing else.
    await pollUntil(async () => audit.distinctLogIds.size, (n) => n === 5, { what: 'the audit stream' });
    expect([...audit.distinctLogIds].sort()).toEqual([...sapi, ...fapi].map((e) => e.log_id).sort());
    expect(audit.logIds).toHaveLength(5);
    expect(siem.envelopes.some((e) => e.data.type === 'sapi' || e.data.type === 'fapi')).toBe(false);
  });
});
