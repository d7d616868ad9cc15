import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { FakeIdp, RpReceiver, pollUntil } from '@ulo/testing';
import { seedUser } from '../apps/gateway/test/revocation.fixtures';
import { RunningPipeline, startPipeline } from './support/pipeline';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
type Alg = (typeof ALGORITHMS)[number];

/**
 * SPEC §4 client settings: `backchannel_logout_signing_alg` (RS256, ES256, EdDSA) and
 * `backchannel_logout_session_required` (true: a token per session with `sid`; false: one
 * `sub`-only token per user when the logout ended all of the user's sessions), through the whole
 * pipeline, every token verified with jose against the published JWKS.
 */
describe('Back-channel logout tokens: algorithms and sub-only tokens', () => {
  let p: RunningPipeline;
  let idp: FakeIdp;
  let base: string;
  const rps: RpReceiver[] = [];

  beforeAll(async () => {
    idp = await FakeIdp.start();
    p = await startPipeline({ BACKCHANNEL_RETRY_BASE_MS: '100', BACKCHANNEL_RETRY_MAX_DELAY_MS: '200' });
    base = p.gw.config.publicBaseUrl;
    const connection = { name: 'acme-okta', strategy: 'okta', options: { issuer: idp.issuer, client_id: idp.clientId } };
    expect((await p.gw.api('POST', '/api/v2/connections', connection)).status).toBe(201);
  });
  afterAll(async () => {
    for (const rp of rps) await rp.close();
    await p.close();
    await idp.close();
  });

  async function app(clientId: string, settings: { alg?: Alg; sessionRequired?: boolean }, rp?: RpReceiver): Promise<RpReceiver> {
    const receiver = rp ?? (await RpReceiver.start(() => 200));
    rps.push(receiver);
    const res = await p.gw.api('POST', '/api/v2/clients', {
      client_id: clientId,
      name: `App ${clientId}`,
      oidc_logout: {
        backchannel_logout_urls: [receiver.url],
        backchannel_logout_initiators: { mode: 'all' },
        ...(settings.alg ? { backchannel_logout_signing_alg: settings.alg } : {}),
        ...(settings.sessionRequired === undefined ? {} : { backchannel_logout_session_required: settings.sessionRequired }),
      },
    });
    expect(res.status).toBe(201);
    return receiver;
  }

  async function universalLogout(sub: string): Promise<void> {
    const token = await idp.sign({ audience: `${base}/oauth/global-token-revocation/connection/acme-okta` });
    const res = await fetch(`${p.gw.baseUrl}/oauth/global-token-revocation/connection/acme-okta`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub_id: { format: 'iss_sub', iss: idp.issuer, sub } }),
    });
    expect(res.status).toBe(204);
  }

  /** jose against the JWKS as published now, accepting only `alg`. */
  async function verify(token: string, clientId: string, alg: Alg) {
    const jwks = createRemoteJWKSet(new URL(`${p.gw.baseUrl}/.well-known/jwks.json`), { cooldownDuration: 0 });
    return jwtVerify(token, jwks, { issuer: `${base}/`, audience: clientId, typ: 'logout+jwt', algorithms: [alg] });
  }

  const received = (rp: RpReceiver, n: number, what: string) =>
    pollUntil(async () => rp.received.length, (k) => k >= n, { timeoutMs: 15_000, what });

  it('signs with each algorithm; a client requiring sid gets a token per session, one not requiring it exactly one sub-only token', async () => {
    const apps = new Map<string, { rp: RpReceiver; alg: Alg; sid: boolean }>();
    for (const alg of ALGORITHMS) {
      for (const sid of [true, false]) {
        const clientId = `${alg.toLowerCase()}-${sid ? 'sid' : 'sub'}`;
        apps.set(clientId, { rp: await app(clientId, { alg, sessionRequired: sid }), alg, sid });
      }
    }
    const ann = await seedUser(p.gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub: '00uAnn', sessions: 3, clientIds: [...apps.keys()] });

    await universalLogout('00uAnn');

    for (const [clientId, { rp, sid }] of apps) {
      await received(rp, sid ? 3 : 1, `the tokens of ${clientId}`);
    }
    // Wait for every outcome, then check nothing more arrived (a sub-only client gets exactly one).
    await pollUntil(
      () => p.gw.dataSource.query(`SELECT count(*)::int AS n FROM backchannel_deliveries WHERE user_id = $1 AND status = 'succeeded'`, [ann.userId]),
      (rows) => rows[0].n === 3 * 3 + 3,
      { what: 'every delivery to succeed' },
    );
    for (const [clientId, { rp, alg, sid }] of apps) {
      expect(rp.received).toHaveLength(sid ? 3 : 1);
      const sids: string[] = [];
      for (const { logoutToken } of rp.received) {
        const { payload, protectedHeader } = await verify(logoutToken, clientId, alg);
        expect(protectedHeader).toEqual({ alg, kid: expect.any(String), typ: 'logout+jwt' });
        expect(Object.keys(payload).sort()).toEqual(sid ? ['aud', 'events', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub'] : ['aud', 'events', 'exp', 'iat', 'iss', 'jti', 'sub']);
        expect(payload).toMatchObject({ iss: `${base}/`, aud: clientId, sub: ann.userId, events: { [EVENT]: {} } });
        expect(payload.exp! - payload.iat!).toBe(120);
        if (sid) sids.push(payload.sid as string);
      }
      if (sid) expect(sids.sort()).toEqual([...ann.sessionIds].sort());
      // Another algorithm's keys do not verify it.
      const other = ALGORITHMS.find((a) => a !== alg)!;
      await expect(verify(rp.received[0].logoutToken, clientId, other)).rejects.toThrow();
    }

    // The Management API and the log tell the two kinds apart.
    const list = await p.gw.api('GET', '/api/v2/backchannel-deliveries?take=100');
    const mine = (list.body.deliveries as { user_id: string; client_id: string; kind: string; session_id: string | null }[]).filter((d) => d.user_id === ann.userId);
    expect(mine.filter((d) => d.kind === 'sub').map((d) => [d.client_id, d.session_id]).sort()).toEqual([
      ['eddsa-sub', null],
      ['es256-sub', null],
      ['rs256-sub', null],
    ]);
    expect(mine.filter((d) => d.kind === 'sid')).toHaveLength(9);
    expect(mine.filter((d) => d.kind === 'sid').every((d) => ann.sessionIds.includes(d.session_id!))).toBe(true);
    const logs = await pollUntil(
      () => p.gw.dataSource.query(`SELECT data FROM log_events WHERE user_id = $1 AND type = 'oidc_backchannel_logout_succeeded' AND client_id = 'es256-sub'`, [ann.userId]),
      (rows) => rows.length === 1,
      { what: 'the log event of the sub-only delivery' },
    );
    expect(logs[0].data.details).toMatchObject({ kind: 'sub', session_id: null, initiator: 'idp-logout' });
  });

  it('a delete of one session still names it with sid to a client that does not require sid; a delete of all sends one sub-only token', async () => {
    const rp = await app('sub-only-deletes', { alg: 'ES256', sessionRequired: false });
    const bob = await seedUser(p.gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub: '00uBob', sessions: 3, clientIds: ['sub-only-deletes'] });

    expect((await p.gw.api('DELETE', `/api/v2/sessions/${bob.sessionIds[0]}`)).status).toBe(202);
    await received(rp, 1, 'the token for the one deleted session');
    const one = (await verify(rp.received[0].logoutToken, 'sub-only-deletes', 'ES256')).payload;
    expect(one).toMatchObject({ sid: bob.sessionIds[0], sub: bob.userId });

    expect((await p.gw.api('DELETE', `/api/v2/users/${encodeURIComponent(bob.userId)}/sessions`)).status).toBe(202);
    await received(rp, 2, 'the token for the user');
    const all = (await verify(rp.received[1].logoutToken, 'sub-only-deletes', 'ES256')).payload;
    expect(all.sub).toBe(bob.userId);
    expect(all).not.toHaveProperty('sid');
    await pollUntil(
      () => p.gw.dataSource.query(`SELECT status FROM backchannel_deliveries WHERE client_id = 'sub-only-deletes'`),
      (rows) => rows.length === 2 && rows.every((r: { status: string }) => r.status === 'succeeded'),
      { what: 'both deliveries to succeed' },
    );
    expect(rp.received).toHaveLength(2);
  });

  it.each(['ES256', 'EdDSA'] as const)('keeps %s tokens verifiable across a rotation of that algorithm between the logout and the delivery', async (alg) => {
    const clientId = `rotating-${alg.toLowerCase()}`;
    const rp = await app(clientId, { alg }, await RpReceiver.start((call) => (call === 1 ? 503 : 200)));
    await seedUser(p.gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub: `00uRot${alg}`, sessions: 1, clientIds: [clientId] });
    const before = (await p.gw.api('GET', '/api/v2/keys/signing')).body as { kid: string; alg: string; status: string }[];
    const currentBefore = (a: string) => before.find((k) => k.alg === a && k.status === 'current')!.kid;

    await universalLogout(`00uRot${alg}`);
    await received(rp, 1, 'the first attempt');
    expect(decodeProtectedHeader(rp.received[0].logoutToken).kid).toBe(currentBefore(alg));

    const rotation = await p.gw.api('POST', '/api/v2/keys/signing/rotate', { alg });
    expect(rotation.status).toBe(201);
    expect(rotation.body).toEqual([expect.objectContaining({ alg, status: 'current' })]);
    const keys = (await p.gw.api('GET', '/api/v2/keys/signing')).body as { kid: string; alg: string; status: string }[];
    expect(keys.find((k) => k.kid === currentBefore(alg))!.status).toBe('previous');
    for (const other of ALGORITHMS.filter((a) => a !== alg)) {
      expect(keys.find((k) => k.alg === other && k.status === 'current')!.kid).toBe(currentBefore(other));
    }

    await received(rp, 2, 'the retry');
    for (const { logoutToken } of rp.received) await verify(logoutToken, clientId, alg);
    expect([currentBefore(alg), rotation.body[0].kid]).toContain(decodeProtectedHeader(rp.received[1].logoutToken).kid);
  });

  it('rotates every algorithm at once without a body, and refuses an unknown algorithm', async () => {
    const all = await p.gw.api('POST', '/api/v2/keys/signing/rotate');
    expect(all.status).toBe(201);
    expect((all.body as { alg: string; status: string }[]).map((k) => [k.alg, k.status]).sort()).toEqual([
      ['ES256', 'current'],
      ['EdDSA', 'current'],
      ['RS256', 'current'],
    ]);
    const jwks = (await (await fetch(`${p.gw.baseUrl}/.well-known/jwks.json`)).json()) as { keys: { kid: string; alg: string }[] };
    for (const k of all.body as { kid: string }[]) expect(jwks.keys.map((j) => j.kid)).toContain(k.kid);
    // Current and previous of each algorithm.
    expect(jwks.keys).toHaveLength(6);

    const bad = await p.gw.api('POST', '/api/v2/keys/signing/rotate', { alg: 'HS256' });
    expect(bad.status).toBe(400);
    expect([bad.body.message].flat().join('; ')).toMatch(/alg must be one of: RS256, ES256, EdDSA/);
  });
});
