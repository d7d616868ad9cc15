import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { FakeIdp, RpReceiver, pollUntil } from '@ulo/testing';
import { seedUser } from '../apps/gateway/test/revocation.fixtures';
import { RunningPipeline, startPipeline } from './support/pipeline';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** SPEC §4 and OpenID Connect Back-Channel Logout 1.0, through the whole pipeline. */
describe('OIDC Back-Channel Logout', () => {
  let p: RunningPipeline;
  let idp: FakeIdp;
  let base: string;
  const rps: RpReceiver[] = [];

  beforeAll(async () => {
    idp = await FakeIdp.start();
    p = await startPipeline({ BACKCHANNEL_RETRY_BASE_MS: '100', BACKCHANNEL_RETRY_MAX_DELAY_MS: '200' });
    base = p.gw.config.publicBaseUrl;
    expect(
      (await p.gw.api('POST', '/api/v2/connections', { name: 'acme-okta', strategy: 'okta', options: { issuer: idp.issuer, client_id: idp.clientId } }))
        .status,
    ).toBe(201);
  });
  afterAll(async () => {
    for (const rp of rps) await rp.close();
    await p.close();
    await idp.close();
  });

  async function app(clientId: string, rp: RpReceiver, selected: string[] | 'all' = ['idp-logout']) {
    rps.push(rp);
    const res = await p.gw.api('POST', '/api/v2/clients', {
      client_id: clientId,
      name: `App ${clientId}`,
      oidc_logout: {
        backchannel_logout_urls: [rp.url],
        backchannel_logout_initiators: selected === 'all' ? { mode: 'all' } : { mode: 'custom', selected_initiators: selected },
      },
    });
    expect(res.status).toBe(201);
    return rp;
  }

  async function universalLogout(sub: string) {
    const token = await idp.sign({ audience: `${base}/oauth/global-token-revocation/connection/acme-okta` });
    const res = await fetch(`${p.gw.baseUrl}/oauth/global-token-revocation/connection/acme-okta`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub_id: { format: 'iss_sub', iss: idp.issuer, sub } }),
    });
    expect(res.status).toBe(204);
    return Date.now();
  }

  const jwks = () => createRemoteJWKSet(new URL(`${p.gw.baseUrl}/.well-known/jwks.json`), { cooldownDuration: 0 });

  async function verify(token: string, clientId: string) {
    const { payload, protectedHeader } = await jwtVerify(token, jwks(), {
      issuer: `${base}/`,
      audience: clientId,
      typ: 'logout+jwt',
      algorithms: ['RS256'],
    });
    return { payload, protectedHeader };
  }

  it('serves discovery that names the back-channel capabilities and the JWKS', async () => {
    const doc = (await (await fetch(`${p.gw.baseUrl}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(doc).toMatchObject({
      issuer: `${base}/`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      global_token_revocation_endpoint: `${base}/oauth/global-token-revocation/connection/{connectionName}`,
      global_token_revocation_endpoint_auth_methods_supported: ['global-token-revocation+jwt'],
    });
    expect(doc.id_token_signing_alg_values_supported).toEqual(['RS256', 'ES256', 'EdDSA']);
    // One current key per algorithm, public parts only.
    const keys = (await (await fetch(`${p.gw.baseUrl}/.well-known/jwks.json`)).json()) as { keys: Record<string, unknown>[] };
    expect(keys.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'EdDSA', 'RS256']);
    expect(keys.keys.find((k) => k.alg === 'RS256')).toMatchObject({ kty: 'RSA', use: 'sig', kid: expect.any(String) });
    expect(keys.keys.find((k) => k.alg === 'ES256')).toMatchObject({ kty: 'EC', crv: 'P-256', use: 'sig', kid: expect.any(String) });
    expect(keys.keys.find((k) => k.alg === 'EdDSA')).toMatchObject({ kty: 'OKP', crv: 'Ed25519', use: 'sig', kid: expect.any(String) });
    for (const k of keys.keys) expect(k).not.toHaveProperty('d');
  });

  it('delivers exact logout tokens; a hanging, a failing and a refusing app never delay a healthy one', async () => {
    const healthy = await app('healthy', await RpReceiver.start(() => 200));
    const hanging = await app('hanging', await RpReceiver.start(() => 'hang'));
    const flaky = await app('flaky', await RpReceiver.start((call) => (call <= 2 ? 503 : 200)));
    const refusing = await app('refusing', await RpReceiver.start(() => 400));
    const rpOnly = await app('rp-only', await RpReceiver.start(() => 200), ['rp-logout']);
    const clientIds = ['hanging', 'flaky', 'refusing', 'rp-only', 'healthy'];
    const ann = await seedUser(p.gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub: '00uAnn', sessions: 3, clientIds });

    const acceptedAt = await universalLogout('00uAnn');

    await pollUntil(async () => healthy.received.length, (n) => n === 3, { timeoutMs: 5000, what: 'the healthy app to get 3 tokens' });
    expect(Math.max(...healthy.received.map((r) => r.at)) - acceptedAt).toBeLessThan(1000);
    expect(healthy.received.every((r) => r.contentType === 'application/x-www-form-urlencoded')).toBe(true);

    const jtis = new Set<string>();
    const sids = new Set<string>();
    for (const { logoutToken } of healthy.received) {
      const { payload, protectedHeader } = await verify(logoutToken, 'healthy');
      expect(protectedHeader).toEqual({ alg: 'RS256', kid: expect.any(String), typ: 'logout+jwt' });
      expect(Object.keys(payload).sort()).toEqual(['aud', 'events', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub']);
      expect(payload).toMatchObject({ sub: ann.userId, events: { [EVENT]: {} } });
      expect(payload).not.toHaveProperty('nonce');
      expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(120);
      jtis.add(payload.jti!);
      sids.add(payload.sid as string);
    }
    expect([...sids].sort()).toEqual([...ann.sessionIds].sort());

    // 503 twice then 200: succeeds on a retry, every attempt a freshly signed token.
    await pollUntil(async () => flaky.received.length, (n) => n >= 5, { timeoutMs: 10000, what: 'the flaky app to succeed on retries' });
    for (const { logoutToken } of flaky.received) jtis.add((await verify(logoutToken, 'flaky')).payload.jti!);
    expect(jtis.size).toBe(healthy.received.length + flaky.received.length);

    // 400: called exactly once per session, never retried, and logged as failed with the status.
    const failures = await pollUntil(
      () => p.gw.dataSource.query(`SELECT data FROM log_events WHERE type = 'oidc_backchannel_logout_failed' AND client_id = 'refusing'`),
      (rows) => rows.length === 3,
      { what: 'three failure logs for the refusing app' },
    );
    expect(refusing.calls).toBe(3);
    expect(failures[0].data).toMatchObject({
      client_id: 'refusing',
      client_name: 'App refusing',
      user_id: ann.userId,
      details: {
        request: { method: 'POST', backchannel_logout_uri: refusing.url },
        response: { statusCode: 400 },
        initiator: 'idp-logout',
        errors: [expect.stringContaining('400')],
      },
    });
    const succeeded = await p.gw.dataSource.query(
      `SELECT client_id, count(*)::int AS n FROM log_events WHERE type = 'oidc_backchannel_logout_succeeded' GROUP BY client_id ORDER BY client_id`,
    );
    expect(succeeded).toEqual([
      { client_id: 'flaky', n: 3 },
      { client_id: 'healthy', n: 3 },
    ]);
    // Only rp-logout selected: Universal Logout sends it nothing.
    expect(rpOnly.calls).toBe(0);
    expect(hanging.calls).toBeGreaterThan(0);
  });

  it('keeps tokens verifiable across a key rotation between the logout and the delivery', async () => {
    const before = (await p.gw.api('GET', '/api/v2/keys/signing')).body as { kid: string; alg: string; status: string }[];
    const rotatingRp = await app('rotating', await RpReceiver.start((call) => (call === 1 ? 503 : 200)));
    await seedUser(p.gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub: '00uRot', sessions: 1, clientIds: ['rotating'] });
    await universalLogout('00uRot');
    await pollUntil(async () => rotatingRp.calls, (n) => n >= 1, { what: 'the first attempt' });
    const firstKid = decodeProtectedHeader(rotatingRp.received[0].logoutToken).kid;

    const rotation = await p.gw.api('POST', '/api/v2/keys/signing/rotate', { alg: 'RS256' });
    expect(rotation.status).toBe(201);
    expect(rotation.body).toEqual([expect.objectContaining({ status: 'current', alg: 'RS256', kid: expect.any(String) })]);
    const rotated = { body: rotation.body[0] as { kid: string } };
    const keys = (await p.gw.api('GET', '/api/v2/keys/signing')).body as { kid: string; alg: string; status: string; jwk: Record<string, unknown> }[];
    expect(keys.filter((k) => k.status === 'current' && k.alg === 'RS256').map((k) => k.kid)).toEqual([rotated.body.kid]);
    expect(keys.find((k) => k.kid === before.find((b) => b.status === 'current' && b.alg === 'RS256')!.kid)!.status).toBe('previous');
    // The other algorithms' keys did not move.
    expect(keys.filter((k) => k.status === 'current' && k.alg !== 'RS256').map((k) => k.kid).sort()).toEqual(
      before.filter((b) => b.status === 'current' && b.alg !== 'RS256').map((b) => b.kid).sort(),
    );
    expect(keys.every((k) => !('d' in k.jwk))).toBe(true);

    await pollUntil(async () => rotatingRp.received.length, (n) => n >= 2, { timeoutMs: 10000, what: 'the retry' });
    for (const { logoutToken } of rotatingRp.received) await verify(logoutToken, 'rotating');
    const kids = rotatingRp.received.map((r) => decodeProtectedHeader(r.logoutToken).kid);
    expect(kids.every((kid) => kid === firstKid || kid === rotated.body.kid)).toBe(true);
  });

  it('parks a delivery that keeps failing, lists it, and a replay through the Management API arrives', async () => {
    const parked = await startPipeline({ BACKCHANNEL_RETRY_BASE_MS: '100', BACKCHANNEL_RETRY_MAX_DELAY_MS: '200', BACKCHANNEL_RETRY_WINDOW_SECONDS: '1' });
    try {
      const down = await RpReceiver.start(() => 503);
      rps.push(down);
      expect(
        (await parked.gw.api('POST', '/api/v2/clients', { client_id: 'down', name: 'Down', oidc_logout: { backchannel_logout_urls: [down.url], backchannel_logout_initiators: { mode: 'all' } } }))
          .status,
      ).toBe(201);
      expect((await parked.gw.api('POST', '/api/v2/users', { user_id: 'auth0|parked' })).status).toBe(201);
      expect((await parked.gw.api('POST', '/api/v2/sessions', { id: 'ses-parked', user_id: 'auth0|parked', clients: [{ client_id: 'down' }] })).status).toBe(201);
      expect((await parked.gw.api('DELETE', '/api/v2/sessions/ses-parked')).status).toBe(202);

      const list = await pollUntil(
        () => parked.gw.api('GET', '/api/v2/backchannel-deliveries?status=parked'),
        (r) => r.body.deliveries?.length === 1,
        { timeoutMs: 15000, what: 'the delivery to be parked' },
      );
      const delivery = list.body.deliveries[0];
      expect(delivery).toMatchObject({ status: 'parked', client_id: 'down', session_id: 'ses-parked', initiator: 'session-revoked', last_status_code: 503 });
      const callsWhileDown = down.calls;
      expect(callsWhileDown).toBeGreaterThanOrEqual(1);

      down.answer(() => 200);
      expect((await parked.gw.api('POST', `/api/v2/backchannel-deliveries/${delivery.id}/retry`)).status).toBe(202);
      await pollUntil(() => parked.gw.api('GET', `/api/v2/backchannel-deliveries/${delivery.id}`), (r) => r.body.status === 'succeeded', {
        what: 'the replay to succeed',
      });
      expect(down.calls).toBe(callsWhileDown + 1);
      const replayed = down.received[down.received.length - 1].logoutToken;
      expect(replayed).not.toBe(down.received[0].logoutToken);
      const { payload } = await jwtVerify(replayed, createRemoteJWKSet(new URL(`${parked.gw.baseUrl}/.well-known/jwks.json`)), { audience: 'down' });
      expect(payload.sid).toBe('ses-parked');
      expect((await parked.gw.api('POST', `/api/v2/backchannel-deliveries/${delivery.id}/retry`)).status).toBe(409);
    } finally {
      await parked.close();
    }
  });
});
