import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import {
  CAEP_CREDENTIAL_CHANGE,
  CAEP_SESSION_REVOKED,
  FakeSsfTransmitter,
  RpReceiver,
  SSF_VERIFICATION,
  newSigningKey,
  pollUntil,
  type PushOptions,
} from '@ulo/testing';
import { revocationState, seedUser } from '../apps/gateway/test/revocation.fixtures';
import { RunningGateway, startGateway } from '../apps/gateway/test/gateway.harness';
import { RunningPipeline, startPipeline } from './support/pipeline';

const BASE = 'https://logout.example.com';
const AUTH = 'Bearer push-secret-acme-1';
const DEFAULT_ACTIONS = { 'session-revoked': 'logout', 'credential-change': 'revoke-refresh-tokens' };
const audienceOf = (name: string) => `${BASE}/ssf/push/connection/${name}`;

interface LoggedEvent {
  type: string;
  description: string;
  connection: string | null;
  connection_id: string | null;
  user_id: string | null;
  details: Record<string, any>;
}

/**
 * SPEC §9 end to end: an SSF transmitter playing Okta pushes CAEP Security Event Tokens
 * (RFC 8935); each is verified, and what it asks for goes through the same outbox and consumers
 * as a Global Token Revocation request, back-channel logout included.
 */
describe('Shared Signals (CAEP) push delivery', () => {
  let p: RunningPipeline;
  let tx: FakeSsfTransmitter;
  const rps: RpReceiver[] = [];
  let appA: RpReceiver;
  let appB: RpReceiver;
  const connectionIds = new Map<string, string>();

  const pushUrl = (name = 'acme-okta') => `${p.gw.baseUrl}/ssf/push/connection/${name}`;
  const push = (set: string, options: PushOptions = { authorization: AUTH }, name = 'acme-okta') => tx.push(pushUrl(name), set, options);
  const logs = async (type: string, where = 'true', params: unknown[] = []): Promise<LoggedEvent[]> =>
    (await p.gw.dataSource.query(`SELECT data FROM log_events WHERE type = $1 AND ${where} ORDER BY log_id`, [type, ...params])).map(
      (r: { data: LoggedEvent }) => r.data,
    );
  const lastLog = async (type: string) => (await logs(type)).at(-1);
  const email = (address: string) => ({ format: 'email', email: address });

  async function connection(name: string, strategy: string, ssf: Record<string, unknown>) {
    const res = await p.gw.api('POST', '/api/v2/connections', { name, strategy, options: { ssf: { issuer: tx.issuer, audience: audienceOf(name), ...ssf } } });
    expect(res.status).toBe(201);
    connectionIds.set(name, res.body.id);
    return res.body;
  }

  async function app(clientId: string, selected?: string[]): Promise<RpReceiver> {
    const rp = await RpReceiver.start(() => 200);
    rps.push(rp);
    const res = await p.gw.api('POST', '/api/v2/clients', {
      client_id: clientId,
      name: `App ${clientId}`,
      oidc_logout: {
        backchannel_logout_urls: [rp.url],
        ...(selected ? { backchannel_logout_initiators: { mode: 'custom', selected_initiators: selected } } : {}),
      },
    });
    expect(res.status).toBe(201);
    return rp;
  }

  const seed = (connectionName: string, name: string, more: { sessions?: number; refreshTokens?: number } = {}) =>
    seedUser(p.gw.dataSource, {
      connection: connectionName,
      issuer: tx.issuer,
      sub: `00u${name}`,
      email: `${name}@example.com`,
      emailNormalized: `${name}@example.com`,
      sessions: 2,
      refreshTokens: 2,
      clientIds: ['app-a', 'app-b'],
      ...more,
    });

  const activeOf = async (userId: string) => {
    const path = encodeURIComponent(userId);
    return {
      sessions: (await p.gw.api('GET', `/api/v2/users/${path}/sessions`)).body.sessions.length as number,
      refreshTokens: (await p.gw.api('GET', `/api/v2/users/${path}/refresh-tokens`)).body.tokens.length as number,
    };
  };

  /** Complete (both steps recorded) comes before its deliveries are planned: wait for the `deliveries` expected, and for them to be over. */
  const completed = (requestId: string, deliveries = 0) =>
    pollUntil(
      () => p.gw.api('GET', `/api/v2/logout-requests/${requestId}`),
      (r) =>
        r.status === 200 && r.body.status === 'completed' && r.body.backchannel.count === deliveries && r.body.backchannel.by_status.pending === 0,
      { what: `logout request ${requestId} to complete and its ${deliveries} deliveries to be over` },
    );

  beforeAll(async () => {
    tx = await FakeSsfTransmitter.start();
    // Every rejection written on its own (the flood budget is tested below); unknown kids refetch at most every 2 s.
    p = await startPipeline({ PUBLIC_BASE_URL: BASE, GTR_REJECTION_LOG_PER_SECOND: '1000', JWKS_COOLDOWN_SECONDS: '2' });
    // The default initiators (rp-logout, idp-logout) select a CAEP logout; so does its own name.
    appA = await app('app-a');
    appB = await app('app-b', ['caep-session-revoked', 'caep-credential-change']);
    await connection('acme-okta', 'okta', { push_authorization: AUTH });
    await connection('acme-logout', 'oidc', { push_authorization: AUTH, actions: { 'credential-change': 'logout' } });
    await connection('acme-log-only', 'samlp', { push_authorization: AUTH, actions: { 'credential-change': 'log-only' } });
  });
  afterAll(async () => {
    for (const rp of rps) await rp.close();
    await p.close();
    await tx.close();
  });

  it('session-revoked: 202, every session and refresh token revoked, back-channel logout at both applications, and the log', async () => {
    const ann = await seed('acme-okta', 'ann');
    const claims = tx.sessionRevoked({ audience: audienceOf('acme-okta'), user: email('ann@example.com') });
    const res = await push(await tx.signSet(claims));
    expect({ status: res.status, body: res.body }).toEqual({ status: 202, body: undefined });

    const [accepted] = await logs('ssf_event_accepted');
    const requestId = accepted.details.request_id as string;
    expect(accepted).toEqual({
      log_id: expect.any(String),
      date: expect.any(String),
      type: 'ssf_event_accepted',
      description: 'CAEP session-revoked event accepted: logout requested',
      connection: 'acme-okta',
      connection_id: connectionIds.get('acme-okta'),
      client_id: null,
      client_name: null,
      user_id: ann.userId,
      identity_user_id: null,
      ip: expect.any(String),
      user_agent: 'node',
      hostname: '127.0.0.1',
      details: {
        event_type: CAEP_SESSION_REVOKED,
        jti: claims.jti,
        action: 'logout',
        subject: email('ann@example.com'),
        request_id: requestId,
        initiator: 'caep-session-revoked',
        user_ids: [ann.userId],
      },
    });

    const view = (await completed(requestId, 4)).body;
    expect(view).toMatchObject({
      id: requestId,
      initiator: 'caep-session-revoked',
      status: 'completed',
      connection: { id: connectionIds.get('acme-okta'), name: 'acme-okta' },
      subject: email('ann@example.com'),
      user_ids: [ann.userId],
      steps: { sessions: { state: 'done', count: 2 }, refresh_tokens: { state: 'done', count: 2 } },
      backchannel: { count: 4, by_status: { pending: 0, succeeded: 4, failed: 0, parked: 0 } },
    });
    expect(await activeOf(ann.userId)).toEqual({ sessions: 0, refreshTokens: 0 });
    for (const id of ann.sessionIds) expect((await p.gw.api('GET', `/api/v2/sessions/${id}`)).status).toBe(404);
    for (const id of ann.refreshTokenIds) expect((await p.gw.api('GET', `/api/v2/refresh-tokens/${id}`)).status).toBe(404);

    // One logout token per session at each application, for Ann and the session it ends.
    for (const rp of [appA, appB]) {
      const tokens = rp.received.map((r) => decodeJwt(r.logoutToken));
      expect(tokens.map((t) => ({ sub: t.sub, sid: t.sid })).sort((a, b) => String(a.sid).localeCompare(String(b.sid)))).toEqual(
        [...ann.sessionIds].sort().map((sid) => ({ sub: ann.userId, sid })),
      );
    }

    // The logout's own events carry the request id, next to the SET's.
    const logged = await p.gw.dataSource.query(
      `SELECT type, count(*)::int AS n FROM log_events WHERE data->'details'->>'request_id' = $1 GROUP BY type ORDER BY type`,
      [requestId],
    );
    expect(logged).toEqual([
      { type: 'oidc_backchannel_logout_succeeded', n: 4 },
      { type: 'srrt', n: 2 },
      { type: 'ssf_event_accepted', n: 1 },
      { type: 'universal_logout_succeeded', n: 1 },
    ]);
    const [succeeded] = await logs('universal_logout_succeeded', `data->'details'->>'request_id' = $2`, [requestId]);
    expect(succeeded.details).toEqual({ request_id: requestId, user_ids: [ann.userId], sessions_revoked: 2, refresh_tokens_revoked: 2 });
    const listed = await p.gw.api('GET', '/api/v2/logout-requests?initiator=caep-session-revoked');
    expect(listed.body.logout_requests.map((r: { id: string }) => r.id)).toEqual([requestId]);
    // The transmitter's configuration was read once, its keys once.
    expect({ configuration: tx.configurationFetches, jwks: tx.jwksFetches }).toEqual({ configuration: 1, jwks: 1 });
  });

  it('credential-change, by default: the refresh tokens revoked, the sessions kept, no back-channel logout', async () => {
    const bob = await seed('acme-okta', 'bob');
    const deliveries = appA.received.length + appB.received.length;
    const claims = tx.credentialChange({ audience: audienceOf('acme-okta'), user: { format: 'iss_sub', iss: tx.issuer, sub: '00ubob' } });
    expect((await push(await tx.signSet(claims))).status).toBe(202);

    const accepted = (await lastLog('ssf_event_accepted'))!;
    expect(accepted.details).toEqual({
      event_type: CAEP_CREDENTIAL_CHANGE,
      jti: claims.jti,
      action: 'revoke-refresh-tokens',
      subject: { format: 'iss_sub', iss: tx.issuer, sub: '00ubob' },
      credential_type: 'password',
      change_type: 'update',
      request_id: expect.any(String),
      initiator: 'caep-credential-change',
      user_ids: [bob.userId],
    });
    expect(accepted.description).toBe('CAEP credential-change event accepted: refresh token revocation requested');
    const view = (await completed(accepted.details.request_id)).body;
    expect(view).toMatchObject({
      initiator: 'caep-credential-change',
      steps: { sessions: { state: 'not_requested', count: null }, refresh_tokens: { state: 'done', count: 2 } },
      backchannel: { count: 0 },
    });
    expect(await activeOf(bob.userId)).toEqual({ sessions: 2, refreshTokens: 0 });
    for (const id of bob.sessionIds) expect((await p.gw.api('GET', `/api/v2/sessions/${id}`)).status).toBe(200);
    expect(appA.received.length + appB.received.length).toBe(deliveries);
  });

  it('credential-change with action logout: every session and refresh token, and back-channel logout', async () => {
    const cat = await seed('acme-logout', 'cat');
    const before = { a: appA.received.length, b: appB.received.length };
    const claims = tx.credentialChange({ audience: audienceOf('acme-logout'), user: email('cat@example.com') });
    expect((await push(await tx.signSet(claims), { authorization: AUTH }, 'acme-logout')).status).toBe(202);

    const accepted = (await lastLog('ssf_event_accepted'))!;
    expect(accepted).toMatchObject({ connection: 'acme-logout', user_id: cat.userId, description: 'CAEP credential-change event accepted: logout requested' });
    expect(accepted.details).toMatchObject({ action: 'logout', initiator: 'caep-credential-change', user_ids: [cat.userId] });
    const view = (await completed(accepted.details.request_id, 4)).body;
    expect(view).toMatchObject({
      initiator: 'caep-credential-change',
      connection: { name: 'acme-logout' },
      steps: { sessions: { state: 'done', count: 2 }, refresh_tokens: { state: 'done', count: 2 } },
      backchannel: { count: 4, by_status: { succeeded: 4 } },
    });
    expect(await activeOf(cat.userId)).toEqual({ sessions: 0, refreshTokens: 0 });
    expect({ a: appA.received.length - before.a, b: appB.received.length - before.b }).toEqual({ a: 2, b: 2 });
  });

  it('credential-change with action log-only: 202 and the log, nothing else changes', async () => {
    const dan = await seed('acme-log-only', 'dan');
    const before = await revocationState(p.gw.dataSource);
    const claims = tx.credentialChange({ audience: audienceOf('acme-log-only'), user: email('DAN@Example.com') });
    expect((await push(await tx.signSet(claims), { authorization: AUTH }, 'acme-log-only')).status).toBe(202);

    const accepted = (await lastLog('ssf_event_accepted'))!;
    expect(accepted).toMatchObject({
      connection: 'acme-log-only',
      user_id: dan.userId,
      description: 'CAEP credential-change event accepted, logged only',
      details: {
        event_type: CAEP_CREDENTIAL_CHANGE,
        jti: claims.jti,
        action: 'log-only',
        subject: email('DAN@Example.com'),
        credential_type: 'password',
        change_type: 'update',
        user_ids: [dan.userId],
      },
    });
    expect(accepted.details).not.toHaveProperty('request_id');
    // Only the jti is used up.
    expect(await revocationState(p.gw.dataSource)).toEqual({ ...before, seen_jtis: before.seen_jtis + 1 });
    expect(await activeOf(dan.userId)).toEqual({ sessions: 2, refreshTokens: 2 });
  });

  it('accepts a SET after the transmitter rotates its key, and a flood of unknown kids does not reach the transmitter', async () => {
    const eve = await seed('acme-okta', 'eve', { sessions: 0, refreshTokens: 1 });
    // Thirty SETs with thirty kids the transmitter never published, signed ahead.
    const bogusKey = await newSigningKey();
    const bogus = await Promise.all(
      Array.from({ length: 30 }, () =>
        tx.signSet(tx.sessionRevoked({ audience: audienceOf('acme-okta'), user: email('eve@example.com') }), { key: bogusKey, kid: randomUUID() }),
      ),
    );
    await tx.rotate();
    const set = await tx.signSet(tx.sessionRevoked({ audience: audienceOf('acme-okta'), user: email('eve@example.com') }));
    // The transmitter retries a refused SET; the new kid is fetched once the cooldown of the last fetch is over.
    const accepted = await pollUntil(() => push(set), (r) => r.status === 202, { what: 'the SET signed with the new key to be accepted' });
    expect(accepted.status).toBe(202);

    // Within the cooldown (2 s here) of that fetch, no unknown kid makes another.
    const fetches = tx.jwksFetches;
    const answers = await Promise.all(bogus.map((b) => push(b)));
    expect(new Set(answers.map((r) => `${r.status} ${r.body.err} ${r.body.description}`))).toEqual(
      new Set(['400 invalid_key no key of the transmitter matches the SET']),
    );
    expect(tx.jwksFetches).toBe(fetches);
    await pollUntil(() => activeOf(eve.userId), (a) => a.refreshTokens === 0, { what: "Eve's refresh token to be revoked" });
  });

  describe('refused SETs: 400 with the RFC 8935 err, nothing changed but the log', () => {
    let carol: Awaited<ReturnType<typeof seed>>;
    const good = () => tx.sessionRevoked({ audience: audienceOf('acme-okta'), user: email('carol@example.com') });
    const now = () => Math.floor(Date.now() / 1000);

    beforeAll(async () => {
      carol = await seed('acme-okta', 'carol');
    });

    const cases: [string, () => Promise<[string, PushOptions?, string?]>, string, string][] = [
      ['unsigned (alg none)', async () => [await tx.signSet(good(), { alg: 'none' })], 'invalid_key', 'alg "none" is not allowed'],
      ['signed with a shared secret (HS256)', async () => [await tx.signSet(good(), { alg: 'HS256' })], 'invalid_key', 'alg "HS256" is not allowed'],
      ['signed with a key the transmitter never published', async () => [await tx.signSet(good(), { key: await newSigningKey() })], 'invalid_key', 'no key of the transmitter matches the SET'],
      [
        "signed with another key under the transmitter's kid",
        async () => [await tx.signSet(good(), { key: await newSigningKey(), kid: tx.currentKey.kid })],
        'invalid_key',
        'signature verification failed',
      ],
      ['from another issuer', async () => [await tx.signSet({ ...good(), iss: 'https://evil.okta.com' })], 'invalid_issuer', 'iss is not the issuer of this connection'],
      ['for another audience', async () => [await tx.signSet({ ...good(), aud: audienceOf('other') })], 'invalid_audience', 'aud is not the audience of this connection'],
      ['issued more than 15 minutes ago', async () => [await tx.signSet({ ...good(), iat: now() - 15 * 60 - 61 })], 'invalid_request', 'the SET is older than 15 minutes (iat)'],
      ['issued in the future', async () => [await tx.signSet({ ...good(), iat: now() + 120 })], 'invalid_request', 'iat is in the future'],
      ['expired', async () => [await tx.signSet({ ...good(), exp: now() - 120 })], 'invalid_request', 'the SET has expired (exp)'],
      ['without a jti', async () => [await tx.signSet({ ...good(), jti: undefined })], 'invalid_request', 'jti is required'],
      ['typed as a plain JWT', async () => [await tx.signSet(good(), { typ: 'JWT' })], 'invalid_request', 'typ must be secevent+jwt'],
      [
        'with a malformed subject',
        async () => [await tx.signSet(tx.sessionRevoked({ audience: audienceOf('acme-okta'), user: { format: 'email', email: 'carol' } }))],
        'invalid_request',
        'subject.user.email is not an email address',
      ],
      [
        'with an unsupported subject format',
        async () => [await tx.signSet(tx.sessionRevoked({ audience: audienceOf('acme-okta'), user: { format: 'phone_number', phone_number: '+15550100' } }))],
        'invalid_request',
        'unsupported subject format "phone_number"',
      ],
      [
        'with two events',
        async () => [await tx.signSet({ ...good(), events: { ...(good().events as object), [CAEP_CREDENTIAL_CHANGE]: { subject: { user: email('carol@example.com') } } } })],
        'invalid_request',
        'events must hold exactly one event, not 2',
      ],
      ['without events', async () => [await tx.signSet({ ...good(), events: undefined })], 'invalid_request', 'events is required: an object holding one event'],
      ['sent as JSON', async () => [await tx.signSet(good()), { authorization: AUTH, contentType: 'application/json' }], 'invalid_request', 'Content-Type must be application/secevent+jwt'],
      ['that is no JWT', async () => ['hello'], 'invalid_request', 'the body is not a Security Event Token (a compact JWS)'],
      ['larger than 32 KiB', async () => ['a'.repeat(33 * 1024)], 'invalid_request', 'the SET exceeds 32 KiB'],
      ['without the Authorization header', async () => [await tx.signSet(good()), {}], 'authentication_failed', 'the Authorization header is required'],
      ['with a wrong Authorization header', async () => [await tx.signSet(good()), { authorization: 'Bearer push-secret-acme-2' }], 'authentication_failed', 'the Authorization header is not the one of this connection'],
      ['for an unknown connection', async () => [await tx.signSet(good()), { authorization: AUTH }, 'no-such-connection'], 'access_denied', 'unknown connection'],
    ];

    it.each(cases)('a SET %s', async (_name, make, err, description) => {
      const [set, options = { authorization: AUTH }, name = 'acme-okta'] = await make();
      const before = await revocationState(p.gw.dataSource);
      const res = await push(set, options, name);
      expect({ status: res.status, body: res.body, type: res.headers.get('content-type') }).toEqual({
        status: 400,
        body: { err, description },
        type: 'application/json; charset=utf-8',
      });
      expect(await revocationState(p.gw.dataSource)).toEqual(before);
      expect(await activeOf(carol.userId)).toEqual({ sessions: 2, refreshTokens: 2 });
      // Logged before the answer, within the budget.
      const rejected = (await lastLog('ssf_event_rejected'))!;
      expect(rejected).toMatchObject({
        connection: name,
        connection_id: name === 'acme-okta' ? connectionIds.get('acme-okta') : null,
        description: `Security Event Token rejected: ${description}`,
        details: { err, reason: description, response: { statusCode: 400 } },
      });
    });

    it('a replayed jti: the first push accepted, the replay refused, also when both arrive together', async () => {
      const set = await tx.signSet(good());
      expect((await push(set)).status).toBe(202);
      await completed((await lastLog('ssf_event_accepted'))!.details.request_id, 4);
      const before = await revocationState(p.gw.dataSource);
      const replay = await push(set);
      expect({ status: replay.status, body: replay.body }).toEqual({ status: 400, body: { err: 'invalid_request', description: 'jti has already been used' } });
      expect(await revocationState(p.gw.dataSource)).toEqual(before);
      expect((await lastLog('ssf_event_rejected'))!.details).toEqual({
        err: 'invalid_request',
        reason: 'jti has already been used',
        event_type: CAEP_SESSION_REVOKED,
        jti: decodeJwt(set).jti,
        response: { statusCode: 400 },
      });

      // Two copies of one new SET at once: the replay store answers one of them in the commit.
      const twice = await tx.signSet(tx.verification({ audience: audienceOf('acme-okta'), state: 'twice' }));
      const answers = await Promise.all([push(twice), push(twice)]);
      expect(answers.map((a) => a.status).sort()).toEqual([202, 400]);
      expect(answers.find((a) => a.status === 400)!.body).toEqual({ err: 'invalid_request', description: 'jti has already been used' });
    });

    it('a connection without Shared Signals: access_denied', async () => {
      const plain = await p.gw.api('POST', '/api/v2/connections', { name: 'plain-okta', strategy: 'okta', options: { issuer: 'https://plain.okta.example.com' } });
      expect(plain.status).toBe(201);
      const res = await push(await tx.signSet(good()), { authorization: AUTH }, 'plain-okta');
      expect({ status: res.status, body: res.body }).toEqual({
        status: 400,
        body: { err: 'access_denied', description: 'Shared Signals are not enabled on connection "plain-okta"' },
      });
    });
  });

  it('an event type it does not act on: 202, logged as ignored', async () => {
    const before = await revocationState(p.gw.dataSource);
    const type = 'https://schemas.openid.net/secevent/caep/event-type/token-claims-change';
    const claims = { iss: tx.issuer, aud: audienceOf('acme-okta'), iat: Math.floor(Date.now() / 1000), jti: 'token-claims-1', events: { [type]: { claims: { role: 'ro' } } } };
    expect((await push(await tx.signSet(claims))).status).toBe(202);
    expect(await lastLog('ssf_event_ignored')).toMatchObject({
      connection: 'acme-okta',
      description: 'Security Event Token of a type this service does not act on, ignored',
      details: { event_type: type, jti: 'token-claims-1', reason: 'event_type_not_supported' },
    });
    expect(await revocationState(p.gw.dataSource)).toEqual({ ...before, seen_jtis: before.seen_jtis + 1 });
  });

  it('a CAEP event for no user of the connection: 202, logged as ignored', async () => {
    const before = await revocationState(p.gw.dataSource);
    const claims = tx.sessionRevoked({ audience: audienceOf('acme-okta'), user: email('nobody@example.com') });
    expect((await push(await tx.signSet(claims))).status).toBe(202);
    expect((await lastLog('ssf_event_ignored'))!.details).toEqual({
      event_type: CAEP_SESSION_REVOKED,
      jti: claims.jti,
      action: 'logout',
      subject: email('nobody@example.com'),
      reason: 'no_user',
    });
    expect(await revocationState(p.gw.dataSource)).toEqual({ ...before, seen_jtis: before.seen_jtis + 1 });
  });

  it('the SSF verification event: 202, and recorded for stream management to find', async () => {
    const claims = tx.verification({ audience: audienceOf('acme-okta'), state: 'VGhpcyBpcyBhIHN0YXRl' });
    expect((await push(await tx.signSet(claims))).status).toBe(202);
    expect(await lastLog('ssf_event_accepted')).toMatchObject({
      connection: 'acme-okta',
      description: 'SSF verification event received',
      details: { event_type: SSF_VERIFICATION, jti: claims.jti, state: 'VGhpcyBpcyBhIHN0YXRl' },
    });
  });

  describe('the Management API: options.ssf', () => {
    const CLIENT_SECRET = 'client-secret-value-0123';
    const secretsIn = (text: string) => [AUTH, 'push-secret-acme', CLIENT_SECRET, 'Bearer rotated-push-secret'].filter((s) => text.includes(s));

    it('shows ssf without its secrets, stores them sealed, and never logs them', async () => {
      const created = await p.gw.api('POST', '/api/v2/connections', {
        name: 'acme-managed',
        strategy: 'okta',
        options: { issuer: 'https://acme.okta.example.com', client_id: '0oaGtr', ssf: { issuer: tx.issuer, audience: 'urn:acme:receiver', push_authorization: AUTH, client_id: '0oaSsf', client_secret: CLIENT_SECRET } },
      });
      expect(created.status).toBe(201);
      const view = {
        id: expect.stringMatching(/^con_/),
        name: 'acme-managed',
        strategy: 'okta',
        options: {
          issuer: 'https://acme.okta.example.com',
          client_id: '0oaGtr',
          ssf: { issuer: tx.issuer, audience: 'urn:acme:receiver', push_authorization_set: true, client_id: '0oaSsf', client_secret_set: true, actions: DEFAULT_ACTIONS },
        },
        revocation_endpoint_url: `${BASE}/oauth/global-token-revocation/connection/acme-managed`,
        ssf_push_endpoint_url: `${BASE}/ssf/push/connection/acme-managed`,
      };
      expect(created.body).toEqual(view);
      const id = created.body.id as string;
      const fetched = await p.gw.api('GET', `/api/v2/connections/${id}`);
      expect(fetched.body).toEqual(created.body);
      const listed = await p.gw.api('GET', '/api/v2/connections?name=acme-managed');
      expect(listed.body.connections).toEqual([created.body]);

      const [row] = await p.gw.dataSource.query(`SELECT options FROM connections WHERE id = $1`, [id]);
      expect(Object.keys(row.options.ssf).sort()).toEqual(['actions', 'audience', 'client_id', 'client_secret_sealed', 'issuer', 'push_authorization_sealed']);
      expect(row.options.ssf.push_authorization_sealed).toMatch(/^v2\./);
      expect(row.options.ssf.client_secret_sealed).toMatch(/^v2\./);
      expect(secretsIn(JSON.stringify(row))).toEqual([]);
      const audit = await logs('sapi', `data->'details'->'request'->>'path' = '/api/v2/connections'`);
      expect(audit.length).toBeGreaterThan(0);
      expect(secretsIn(JSON.stringify(audit))).toEqual([]);
      expect(secretsIn(JSON.stringify([created.body, fetched.body, listed.body]))).toEqual([]);
    });

    it.each([
      [{ issuer: 'not a url', audience: 'a', push_authorization: AUTH }, 'options.ssf.issuer must be an absolute URL'],
      [{ issuer: 'ftp://127.0.0.1/', audience: 'a', push_authorization: AUTH }, 'options.ssf.issuer must use https'],
      [{ audience: 'a', push_authorization: AUTH }, 'options.ssf.issuer is required: the SSF transmitter issuer URL'],
      [{ issuer: 'https://t.example.com', audience: '', push_authorization: AUTH }, 'options.ssf.audience must be a non-empty string'],
      [{ issuer: 'https://t.example.com', audience: 'a' }, 'options.ssf.push_authorization is required: the Authorization header the transmitter pushes with'],
      [{ issuer: 'https://t.example.com', audience: 'a', push_authorization: 'Bearer x\r\nInjected: 1' }, 'options.ssf.push_authorization must be printable ASCII without leading or trailing spaces (it is an HTTP header value)'],
      [{ issuer: 'https://t.example.com', audience: 'a', push_authorization: AUTH, client_id: 'c' }, 'options.ssf.client_id and options.ssf.client_secret must be set together'],
      [{ issuer: 'https://t.example.com', audience: 'a', push_authorization: AUTH, client_secret: 's' }, 'options.ssf.client_secret and options.ssf.client_id must be set together'],
      [{ issuer: 'https://t.example.com', audience: 'a', push_authorization: AUTH, actions: { 'credential-change': 'ignore' } }, 'options.ssf.actions.credential-change must be one of: revoke-refresh-tokens, logout, log-only'],
      [{ issuer: 'https://t.example.com', audience: 'a', push_authorization: AUTH, actions: { 'session-revoked': 'log-only' } }, 'options.ssf.actions.session-revoked must be one of: logout'],
      [{ issuer: 'https://t.example.com', audience: 'a', push_authorisation: AUTH }, 'options.ssf has unknown member(s): push_authorisation'],
      ['https://t.example.com', 'options.ssf must be an object'],
    ])('answers 400 to options.ssf %j', async (ssf, message) => {
      const before = await p.gw.dataSource.query('SELECT count(*)::int AS n FROM connections');
      const res = await p.gw.api('POST', '/api/v2/connections', { name: 'bad-ssf', strategy: 'oidc', options: { ssf } });
      expect(res).toEqual({ status: 400, body: { statusCode: 400, error: 'Bad Request', message } });
      expect(await p.gw.dataSource.query('SELECT count(*)::int AS n FROM connections')).toEqual(before);
      // The fapi of the refused write does not carry the secret either.
      expect(secretsIn(JSON.stringify(await lastLog('fapi')))).toEqual([]);
    });

    it('PATCH keeps the stored secrets for the same issuer, needs them again for another, and replaces or removes ssf', async () => {
      const id = (await p.gw.api('GET', '/api/v2/connections?name=acme-managed')).body.connections[0].id as string;
      const stored = async () => (await p.gw.dataSource.query(`SELECT options FROM connections WHERE id = $1`, [id]))[0].options.ssf;
      const sealed = await stored();
      const patch = (ssf: Record<string, unknown> | undefined) => p.gw.api('PATCH', `/api/v2/connections/${id}`, { options: ssf ? { ssf } : {} });
      const verificationPush = async (authorization: string) =>
        tx.push(pushUrl('acme-managed'), await tx.signSet(tx.verification({ audience: 'urn:acme:receiver' })), { authorization });

      // The same issuer, a new action, no secret given: both kept as they were sealed.
      const kept = await patch({ issuer: tx.issuer, audience: 'urn:acme:receiver', client_id: '0oaSsf', actions: { 'credential-change': 'logout' } });
      expect(kept.status).toBe(200);
      expect(kept.body.options).toEqual({
        ssf: { issuer: tx.issuer, audience: 'urn:acme:receiver', push_authorization_set: true, client_id: '0oaSsf', client_secret_set: true, actions: { 'session-revoked': 'logout', 'credential-change': 'logout' } },
      });
      expect(await stored()).toEqual({ ...sealed, actions: { 'session-revoked': 'logout', 'credential-change': 'logout' } });
      expect((await verificationPush(AUTH)).status).toBe(202);

      // Another issuer: the secrets go with it only when given again.
      const elsewhere = await patch({ issuer: 'https://evil.example.com', audience: 'urn:acme:receiver', client_id: '0oaSsf' });
      expect(elsewhere).toEqual({
        status: 400,
        body: {
          statusCode: 400,
          error: 'Bad Request',
          message: "changing options.ssf.issuer sends the connection's credentials elsewhere: give options.ssf.push_authorization and options.ssf.client_secret again",
        },
      });
      const newClient = await patch({ issuer: tx.issuer, audience: 'urn:acme:receiver', client_id: '0oaOther' });
      expect(newClient.body.message).toBe('changing options.ssf.client_id needs options.ssf.client_secret again');
      expect(await stored()).toEqual({ ...sealed, actions: { 'session-revoked': 'logout', 'credential-change': 'logout' } });

      // A new push authorization: the old one stops working (once the connection is read again, within a second).
      const rotated = await patch({ issuer: tx.issuer, audience: 'urn:acme:receiver', push_authorization: 'Bearer rotated-push-secret' });
      expect(rotated.status).toBe(200);
      expect(rotated.body.options.ssf).toEqual({ issuer: tx.issuer, audience: 'urn:acme:receiver', push_authorization_set: true, client_secret_set: false, actions: DEFAULT_ACTIONS });
      expect((await stored()).push_authorization_sealed).not.toBe(sealed.push_authorization_sealed);
      await pollUntil(() => verificationPush('Bearer rotated-push-secret'), (r) => r.status === 202, { what: 'the new push authorization to be accepted' });
      expect((await verificationPush(AUTH)).body).toEqual({ err: 'authentication_failed', description: 'the Authorization header is not the one of this connection' });

      // Options without ssf: Shared Signals off for the connection.
      const off = await patch(undefined);
      expect(off.status).toBe(200);
      expect(off.body.options).toEqual({});
      expect(off.body).not.toHaveProperty('ssf_push_endpoint_url');
      const denied = await pollUntil(() => verificationPush('Bearer rotated-push-secret'), (r) => r.status === 400, { what: 'pushes to be refused' });
      expect(denied.body).toEqual({ err: 'access_denied', description: 'Shared Signals are not enabled on connection "acme-managed"' });
    });
  });
});

/**
 * SPEC §2 "Hostile traffic", as the SET push endpoint owes it too: a flood of refused SETs costs no
 * database write each (one aggregated event per interval beyond the budget), unauthenticated
 * requests are limited per source, and no input produces a 5xx.
 */
describe('Shared Signals push under hostile traffic', () => {
  let gw: RunningGateway;
  let tx: FakeSsfTransmitter;

  beforeAll(async () => {
    tx = await FakeSsfTransmitter.start();
    gw = await startGateway({
      PUBLIC_BASE_URL: BASE,
      GTR_REJECTION_LOG_PER_SECOND: '2',
      GTR_REJECTION_LOG_INTERVAL_SECONDS: '1',
      GTR_UNVERIFIED_PER_SOURCE_PER_SECOND: '1',
      GTR_UNVERIFIED_PER_SOURCE_BURST: '40',
    });
    const res = await gw.api('POST', '/api/v2/connections', {
      name: 'acme-okta',
      strategy: 'okta',
      options: { ssf: { issuer: tx.issuer, audience: audienceOf('acme-okta'), push_authorization: AUTH } },
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await gw.close();
    await tx.close();
  });

  it('logs 60 refused SETs within the budget and counts the rest, limits the source, never answers 5xx', async () => {
    const url = `${gw.baseUrl}/ssf/push/connection/acme-okta`;
    const hostile: [string, PushOptions][] = [
      ['x.y.z', { authorization: 'Bearer wrong' }],
      [`${Buffer.from('{"alg":"RS256","kid":"\\u0000"}').toString('base64url')}.e30.c2ln`, {}],
      ['e30.e30.', { authorization: AUTH.slice(0, -1) }],
      ['\u0000\ud800', { authorization: 'Basic Og==' }],
      ['a.b', { authorization: 'Bearer wrong', contentType: 'application/secevent+jwt; charset=utf-8' }],
    ];
    const answers = [];
    const startedAt = Date.now();
    for (let i = 0; i < 60; i++) {
      const [set, options] = hostile[i % hostile.length];
      answers.push(await tx.push(url, set, options));
    }
    expect(answers.filter((a) => a.status >= 500)).toEqual([]);
    const elapsedSeconds = (Date.now() - startedAt) / 1000;
    const statuses = answers.map((a) => a.status);
    // 40 refused as sent (the source's burst), then its bucket is in debt: 429 with Retry-After.
    expect(statuses.slice(0, 40)).toEqual(Array(40).fill(400));
    expect(statuses.slice(50)).toEqual(Array(10).fill(429));
    expect(statuses.filter((s) => s !== 400 && s !== 429)).toEqual([]);
    expect(answers[59].body).toEqual({ err: 'rate_limited', description: 'too many unauthenticated requests from this address' });
    expect(Number(answers[59].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    type Row = { data: { details: { err?: string; aggregated?: { count: number; by_status: Record<string, number> } } } };
    const rows: Row[] = await pollUntil(
      () => gw.dataSource.query(`SELECT data FROM log_events WHERE type = 'ssf_event_rejected' ORDER BY log_id`),
      (r: Row[]) => r.reduce((n, row) => n + (row.data.details.aggregated?.count ?? 1), 0) >= 60,
      { what: 'every refused SET to be logged or counted' },
    );
    const singles = rows.filter((r) => !r.data.details.aggregated);
    const aggregates = rows.filter((r) => r.data.details.aggregated);
    expect(singles.length + aggregates.reduce((n, r) => n + r.data.details.aggregated!.count, 0)).toBe(60);
    // The budget: 2 a second, and what the bucket holds at the start.
    expect(singles.length).toBeLessThanOrEqual(2 + Math.ceil(elapsedSeconds * 2) + 2);
    expect(aggregates.length).toBeGreaterThan(0);
    const byStatus: Record<string, number> = {};
    for (const r of singles) byStatus[r.data.details.err === 'rate_limited' ? '429' : '400'] = (byStatus[r.data.details.err === 'rate_limited' ? '429' : '400'] ?? 0) + 1;
    for (const r of aggregates) for (const [status, n] of Object.entries(r.data.details.aggregated!.by_status)) byStatus[status] = (byStatus[status] ?? 0) + n;
    expect(byStatus).toEqual({ 400: statuses.filter((s) => s === 400).length, 429: statuses.filter((s) => s === 429).length });
  });
});
