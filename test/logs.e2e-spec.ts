import { LogEvent } from '@ulo/contracts';
import { FakeIdp, pollUntil } from '@ulo/testing';
import { seedUser } from '../apps/gateway/test/revocation.fixtures';
import { LogReceiver } from '../apps/log-streamer/test/log-receiver';
import { RunningLogStreamer, startLogStreamer } from '../apps/log-streamer/test/log-streamer.harness';
import { RunningPipeline, startPipeline } from './support/pipeline';

/**
 * Issue #5: the log events of Universal Logouts, through the whole pipeline (gateway, consumers,
 * log-streamer), read back with the query API and received by a log stream.
 */
describe('logs of a Universal Logout', () => {
  let p: RunningPipeline;
  let streamer: RunningLogStreamer;
  let idp: FakeIdp;
  let siem: LogReceiver;
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
    base = p.config.publicBaseUrl;
    streamer = await startLogStreamer({ KAFKA_TOPIC_PREFIX: p.config.kafka.topicPrefix });
    expect(
      (await p.gw.api('POST', '/api/v2/connections', { name: 'acme-okta', strategy: 'okta', options: { issuer: idp.issuer, client_id: idp.clientId } }))
        .status,
    ).toBe(201);
    siem = await LogReceiver.start();
    expect((await p.gw.api('POST', '/api/v2/log-streams', { name: 'SIEM', type: 'http', sink: { httpEndpoint: siem.url } })).status).toBe(201);

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
    expect(before).toHaveLength(251);
    expect(before.every((e) => e.user_id === ann.userId)).toBe(true);

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
});
