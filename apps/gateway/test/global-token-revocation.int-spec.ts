import { generateKeyPair, SignJWT } from 'jose';
import { createSecretKey } from 'node:crypto';
import { FakeIdp, pollUntil, samlSigningMaterial } from '@ulo/testing';
import { createGateway } from '../src/gateway.app';
import { RunningGateway, startGateway } from './gateway.harness';
import { revocationState, seedUser } from './revocation.fixtures';

describe('POST /oauth/global-token-revocation/connection/{name} (SPEC §2)', () => {
  let gw: RunningGateway;
  let idp: FakeIdp;
  let audience: string;
  let user: Awaited<ReturnType<typeof seedUser>>;
  const sub = '00u1abcd';

  const post = (token: string | null, body: unknown, opts: { connection?: string; contentType?: string; raw?: string } = {}) =>
    fetch(`${gw.baseUrl}/oauth/global-token-revocation/connection/${opts.connection ?? 'acme-okta'}`, {
      method: 'POST',
      headers: {
        'content-type': opts.contentType ?? 'application/json',
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      },
      body: opts.raw ?? JSON.stringify(body),
    });
  const okBody = () => ({ sub_id: { format: 'iss_sub', iss: idp.issuer, sub } });

  beforeAll(async () => {
    idp = await FakeIdp.start();
    gw = await startGateway({ PUBLIC_BASE_URL: 'https://logout.example.com', JWKS_COOLDOWN_SECONDS: '2' });
    audience = 'https://logout.example.com/oauth/global-token-revocation/connection/acme-okta';
    const created = await gw.api('POST', '/api/v2/connections', {
      name: 'acme-okta',
      strategy: 'okta',
      options: { issuer: idp.issuer, client_id: idp.clientId },
    });
    expect(created.status).toBe(201);
    user = await seedUser(gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub, email: 'Ann.Smith@Example.com', emailNormalized: 'ann.smith@example.com' });
  });
  afterAll(async () => {
    await gw.close();
    await idp.close();
  });

  async function expectRejected(res: Response, status: number, error: string, description?: RegExp) {
    const body = (await res.json()) as { error: string; error_description: string };
    expect({ status: res.status, error: body.error }).toEqual({ status, error });
    if (description) expect(body.error_description).toMatch(description);
    if (status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  }

  describe('rejections change nothing and answer the SPEC status', () => {
    let before: Record<string, number>;
    beforeEach(async () => {
      before = await revocationState(gw.dataSource);
    });
    afterEach(async () => {
      expect(await revocationState(gw.dataSource)).toEqual(before);
    });

    it('401 without a bearer token', async () => {
      await expectRejected(await post(null, okBody()), 401, 'invalid_token', /bearer token is required/);
    });
    it('401 for a garbage token', async () => {
      await expectRejected(await post('not.a.jwt', okBody()), 401, 'invalid_token');
    });
    it('401 for alg none', async () => {
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'global-token-revocation+jwt' })).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const payload = Buffer.from(
        JSON.stringify({ iss: idp.issuer, sub: idp.clientId, aud: audience, jti: 'x', iat: now, exp: now + 300 }),
      ).toString('base64url');
      await expectRejected(await post(`${header}.${payload}.`, okBody()), 401, 'invalid_token', /alg "none"/);
    });
    it('401 for HS256 signed with the IdP public key as the secret', async () => {
      const secret = createSecretKey(Buffer.from(JSON.stringify(idp.currentKey.publicJwk)));
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ iss: idp.issuer, sub: idp.clientId, aud: audience, jti: 'hs', iat: now, exp: now + 300 })
        .setProtectedHeader({ alg: 'HS256', typ: 'global-token-revocation+jwt', kid: idp.currentKey.kid })
        .sign(secret);
      await expectRejected(await post(token, okBody()), 401, 'invalid_token', /alg "HS256"/);
    });
    it('401 for a forged signature under a known kid', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const forged = await idp.sign({ audience, key: { ...idp.currentKey, privateKey } });
      await expectRejected(await post(forged, okBody()), 401, 'invalid_token', /signature verification failed/);
    });
    it.each([
      ['wrong iss', { iss: 'https://evil.okta.com' }, /iss does not match/],
      ['wrong sub', { sub: '0oaSomeoneElse' }, /sub does not match/],
      ['wrong aud', { aud: 'https://logout.example.com/oauth/global-token-revocation/connection/other' }, /aud is not this endpoint/],
      ['expired', { iat: Math.floor(Date.now() / 1000) - 900, nbf: Math.floor(Date.now() / 1000) - 900, exp: Math.floor(Date.now() / 1000) - 120 }, /expired/],
      ['future iat', { iat: Math.floor(Date.now() / 1000) + 600, exp: Math.floor(Date.now() / 1000) + 900, nbf: undefined }, /future/],
      ['excessive lifetime', { exp: Math.floor(Date.now() / 1000) + 3600 }, /lifetime exceeds 15 minutes/],
      ['no jti', { jti: undefined }, /jti is required/],
    ])('401 for %s', async (_name, claims, description) => {
      const token = await idp.sign({ audience, claims });
      await expectRejected(await post(token, okBody()), 401, 'invalid_token', description);
    });
    it('401 for a wrong typ', async () => {
      const token = await idp.sign({ audience, header: { typ: 'at+jwt' } });
      await expectRejected(await post(token, okBody()), 401, 'invalid_token', /unexpected typ/);
    });
    it.each([
      ['malformed JSON', { raw: '{"sub_id": ' }, /not valid JSON/],
      ['an unsupported format', { body: { sub_id: { format: 'phone_number', phone_number: '+15551234' } } }, /unsupported subject format/],
      ['missing members', { body: { sub_id: { format: 'iss_sub', iss: 'https://acme.okta.com' } } }, /sub_id.sub is required/],
      ['both sub_id and subject', { body: { sub_id: { format: 'opaque', id: 'a' }, subject: { format: 'opaque', id: 'a' } } }, /not both/],
      [
        'nested aliases',
        { body: { sub_id: { format: 'aliases', identifiers: [{ format: 'aliases', identifiers: [{ format: 'opaque', id: 'a' }] }] } } },
        /may not be nested/,
      ],
    ])('400 for %s', async (_name, input, description) => {
      const token = await idp.sign({ audience });
      const res = await post(token, (input as { body?: unknown }).body, { raw: (input as { raw?: string }).raw });
      await expectRejected(res, 400, 'invalid_request', description);
    });
    it('415 for text/plain', async () => {
      const token = await idp.sign({ audience });
      await expectRejected(await post(token, okBody(), { contentType: 'text/plain' }), 415, 'invalid_request');
    });
    it('413 for a body over 16 KiB', async () => {
      const token = await idp.sign({ audience });
      const big = { ...okBody(), padding: 'x'.repeat(17 * 1024) };
      await expectRejected(await post(token, big), 413, 'invalid_request');
    });
    it('404 for an unknown connection', async () => {
      const token = await idp.sign({ audience });
      await expectRejected(await post(token, okBody(), { connection: 'nope' }), 404, 'not_found', /unknown connection/);
    });
    it('403 for a samlp connection without jwt_iss/jwt_sub', async () => {
      expect((await gw.api('POST', '/api/v2/connections', { name: 'saml-off', strategy: 'samlp' })).status).toBe(201);
      const token = await idp.sign({ audience });
      await expectRejected(await post(token, okBody(), { connection: 'saml-off' }), 403, 'access_denied');
    });
  });

  // SPEC §2.5 (changed by the hostile-traffic rules): a 404 uses up the jti; before, it did not.
  it('404 for an unknown user uses up the jti: the same token with a known subject is 401, here and on another instance', async () => {
    const before = await revocationState(gw.dataSource);
    const token = await idp.sign({ audience });
    const res = await post(token, { sub_id: { format: 'iss_sub', iss: idp.issuer, sub: '00uNobody' } });
    await expectRejected(res, 404, 'not_found', /no user matches/);
    const used = { ...before, seen_jtis: before.seen_jtis + 1 };
    expect(await revocationState(gw.dataSource)).toEqual(used);

    await expectRejected(await post(token, okBody()), 401, 'invalid_token', /already been used/);
    // Another gateway instance knows nothing in memory: the database refuses the replay.
    const other = await createGateway(gw.config);
    await other.listen(0, '127.0.0.1');
    try {
      const port = (other.getHttpServer().address() as { port: number }).port;
      const replay = await fetch(`http://127.0.0.1:${port}/oauth/global-token-revocation/connection/acme-okta`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(okBody()),
      });
      await expectRejected(replay, 401, 'invalid_token', /already been used/);
    } finally {
      await other.close();
    }
    expect(await revocationState(gw.dataSource)).toEqual(used);
  });

  it('keeps the replay marker until the token expires plus the skew, and a jti whose marker expired may be used again', async () => {
    const jti = `j-${Date.now()}`;
    const exp = Math.floor(Date.now() / 1000) + 200;
    await gw.dataSource.query('DELETE FROM logout_requests');
    const res = await post(await idp.sign({ audience, claims: { jti, exp } }), okBody());
    expect(res.status).toBe(204);
    const [marker] = await gw.dataSource.query(
      `SELECT extract(epoch FROM expires_at)::int AS expires FROM seen_jtis s JOIN connections c ON c.id = s.connection_id
       WHERE c.name = 'acme-okta' AND s.jti = $1`,
      [jti],
    );
    // CLOCK_SKEW_SECONDS is left at its default, 60 (SPEC §1).
    expect(marker.expires).toBe(exp + 60);

    // A marker left from a token that expired (the sweeper has not run yet) does not block the jti.
    const stale = `stale-${Date.now()}`;
    await gw.dataSource.query(
      `INSERT INTO seen_jtis (connection_id, jti, expires_at) SELECT id, $1, now() - interval '1 second' FROM connections WHERE name = 'acme-okta'`,
      [stale],
    );
    expect((await post(await idp.sign({ audience, claims: { jti: stale } }), okBody())).status).toBe(204);
  });

  it('logs universal_logout_failed for a rejected request', async () => {
    await post(null, okBody());
    const rows: { data: unknown }[] = await pollUntil(
      () => gw.dataSource.query(`SELECT data FROM log_events WHERE type = 'universal_logout_failed' ORDER BY log_id DESC LIMIT 1`),
      (r) => r.length === 1,
    );
    expect(rows[0].data).toMatchObject({
      type: 'universal_logout_failed',
      connection: 'acme-okta',
      details: { error: 'invalid_token', response: { statusCode: 401 } },
    });
  });

  it('accepts a valid request with 204, records it once, and refuses its replay', async () => {
    const token = await idp.sign({ audience });
    const res = await post(token, okBody());
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    const [request] = await gw.dataSource.query(`SELECT user_ids, initiator, connection_name FROM logout_requests`);
    expect(request).toEqual({ user_ids: [user.userId], initiator: 'idp-logout', connection_name: 'acme-okta' });
    const before = await revocationState(gw.dataSource);
    await expectRejected(await post(token, okBody()), 401, 'invalid_token', /already been used/);
    expect(await revocationState(gw.dataSource)).toEqual(before);
  });

  it.each([
    ['email, case-insensitively', { sub_id: { format: 'email', email: 'ann.smith@EXAMPLE.com' } }],
    ['opaque user id', () => ({ sub_id: { format: 'opaque', id: user.userId } })],
    ['legacy subject key', () => ({ subject: { format: 'iss_sub', iss: idp.issuer, sub } })],
    ['aliases', () => ({ sub_id: { format: 'aliases', identifiers: [{ format: 'opaque', id: 'nobody' }, { format: 'email', email: 'ann.smith@example.com' }] } })],
  ])('resolves the user by %s', async (_name, body) => {
    await gw.dataSource.query('DELETE FROM logout_requests');
    const token = await idp.sign({ audience });
    const res = await post(token, typeof body === 'function' ? body() : body);
    expect(res.status).toBe(204);
    const [request] = await gw.dataSource.query(`SELECT user_ids FROM logout_requests`);
    expect(request.user_ids).toEqual([user.userId]);
  });

  it('picks up key rotation at the IdP, and a burst of unknown kids refetches at most once per cooldown', async () => {
    await idp.rotate();
    // The new kid is unknown until the key set is refetched, which happens at most once per 2 s cooldown.
    const token = await idp.sign({ audience });
    const started = Date.now();
    const status = await pollUntil(
      async () => (await post(token, okBody())).status,
      (s) => s === 204,
      { timeoutMs: 10000, intervalMs: 200, what: 'the rotated key to be accepted' },
    );
    expect(status).toBe(204);
    expect(Date.now() - started).toBeLessThan(5000);
    const fetchesAfterRotation = idp.jwksFetches;

    const { privateKey } = await generateKeyPair('RS256');
    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, i) => idp.sign({ audience, key: { kid: `bogus-${i}`, privateKey, publicJwk: { kty: 'RSA' } } })),
    );
    const burstStarted = Date.now();
    const burst = await Promise.all(tokens.map((t) => post(t, okBody())));
    const burstSeconds = (Date.now() - burstStarted) / 1000;
    expect(burst.map((r) => r.status)).toEqual(Array(50).fill(401));
    expect(idp.jwksFetches - fetchesAfterRotation).toBeLessThanOrEqual(1 + Math.floor(burstSeconds / 2));
  });

  it('samlp: accepts a JWT signed with the key of the SAML signing certificate, without kid', async () => {
    const saml = samlSigningMaterial();
    const created = await gw.api('POST', '/api/v2/connections', {
      name: 'acme-saml',
      strategy: 'samlp',
      options: {
        signingCert: saml.certificateBase64Der,
        global_token_revocation_jwt_iss: 'http://www.okta.com/exk1saml',
        global_token_revocation_jwt_sub: 'https://logout.example.com/sp',
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.options.signing_cert).toBe(saml.certificateBase64Der);
    const samlUser = await seedUser(gw.dataSource, { connection: 'acme-saml', issuer: 'http://www.okta.com/exk1saml', sub: 'ann@acme.test' });
    const samlAudience = 'https://logout.example.com/oauth/global-token-revocation/connection/acme-saml';
    const token = await idp.sign({
      audience: samlAudience,
      key: saml.key,
      omitKid: true,
      claims: { iss: 'http://www.okta.com/exk1saml', sub: 'https://logout.example.com/sp' },
    });
    const res = await post(token, { sub_id: { format: 'iss_sub', iss: 'http://www.okta.com/exk1saml', sub: 'ann@acme.test' } }, { connection: 'acme-saml' });
    expect(res.status).toBe(204);
    const rows = await gw.dataSource.query(`SELECT user_ids FROM logout_requests WHERE connection_name = 'acme-saml'`);
    expect(rows).toEqual([{ user_ids: [samlUser.userId] }]);

    const wrongKey = await idp.sign({ audience: samlAudience, omitKid: true, claims: { iss: 'http://www.okta.com/exk1saml', sub: 'https://logout.example.com/sp' } });
    const forged = await post(wrongKey, { sub_id: { format: 'iss_sub', iss: 'http://www.okta.com/exk1saml', sub: 'ann@acme.test' } }, { connection: 'acme-saml' });
    expect(forged.status).toBe(401);
  });
});

/**
 * SPEC §2 "Hostile traffic": the limits and the rejection log, each on a gateway of its own with
 * small numbers. Sources are told apart by X-Forwarded-For (the gateway trusts a loopback proxy).
 */
describe('revocation endpoint under hostile traffic (SPEC §2)', () => {
  const base = 'https://logout.example.com';
  const audience = `${base}/oauth/global-token-revocation/connection/acme`;
  let idp: FakeIdp;
  let gw: RunningGateway | null = null;
  const sub = '00uHostile';
  const okBody = () => ({ sub_id: { format: 'iss_sub', iss: idp.issuer, sub } });

  beforeAll(async () => {
    idp = await FakeIdp.start();
  });
  afterAll(async () => {
    await idp.close();
  });
  afterEach(async () => {
    await gw?.close();
    gw = null;
  });

  async function gateway(overrides: Record<string, string>): Promise<RunningGateway> {
    gw = await startGateway({ PUBLIC_BASE_URL: base, ...overrides });
    const created = await gw.api('POST', '/api/v2/connections', {
      name: 'acme',
      strategy: 'okta',
      options: { issuer: idp.issuer, client_id: idp.clientId },
    });
    expect(created.status).toBe(201);
    await seedUser(gw.dataSource, { connection: 'acme', issuer: idp.issuer, sub });
    return gw;
  }

  function post(g: RunningGateway, opts: { token?: string | null; body?: unknown; from?: string; connection?: string } = {}) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.from) headers['x-forwarded-for'] = opts.from;
    return fetch(`${g.baseUrl}/oauth/global-token-revocation/connection/${opts.connection ?? 'acme'}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(opts.body ?? {}),
    });
  }
  const junk = (g: RunningGateway, from: string, connection?: string) => post(g, { token: 'not.a.jwt', body: okBody(), from, connection });
  const valid = async (g: RunningGateway, from: string, body: unknown = okBody()) =>
    post(g, { token: await idp.sign({ audience }), body, from });

  it('the per-connection rate limit counts only requests whose token verified', async () => {
    const g = await gateway({ GTR_RATE_LIMIT_PER_SECOND: '1', GTR_RATE_LIMIT_BURST: '2' });
    // Junk to the connection, and to names of no connection, spends nothing of the limit.
    for (let i = 0; i < 20; i++) expect((await junk(g, `198.51.100.${i}`)).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await junk(g, '198.51.100.99', `nope-${i}`)).status).toBe(404);
    const nobody = { sub_id: { format: 'iss_sub', iss: idp.issuer, sub: '00uNobody' } };
    expect((await valid(g, '192.0.2.10', nobody)).status).toBe(404);
    expect((await valid(g, '192.0.2.10')).status).toBe(204);
    // The third verified request within the second is refused; it wrote nothing, and its jti is not used up.
    const before = await revocationState(g.dataSource);
    const limited = await valid(g, '192.0.2.10');
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({ error: 'rate_limited', error_description: 'too many revocation requests for this connection' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await revocationState(g.dataSource)).toEqual(before);
  });

  it('limits unverified requests per source: a flooding address is refused, the IdP at another address is not', async () => {
    const g = await gateway({ GTR_UNVERIFIED_PER_SOURCE_PER_SECOND: '1', GTR_UNVERIFIED_PER_SOURCE_BURST: '3' });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await junk(g, '198.51.100.7')).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
    const refused = await junk(g, '198.51.100.7');
    expect(await refused.json()).toEqual({ error: 'rate_limited', error_description: 'too many unauthenticated requests from this address' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // One host of an IPv6 /64 is one source however many addresses it uses.
    for (let i = 1; i <= 3; i++) expect((await junk(g, `2001:db8:1:2::${i}`)).status).toBe(401);
    expect((await junk(g, '2001:db8:1:2::ffff')).status).toBe(429);
    expect((await valid(g, '192.0.2.10')).status).toBe(204);
  });

  it('limits unverified requests overall, but an address that sent a verified token gets through', async () => {
    const g = await gateway({ GTR_UNVERIFIED_PER_SECOND: '1', GTR_UNVERIFIED_BURST: '5' });
    expect((await valid(g, '192.0.2.10', { sub_id: { format: 'opaque', id: 'nobody' } })).status).toBe(404);
    for (let i = 0; i < 5; i++) expect((await junk(g, `203.0.113.${i}`)).status).toBe(401);
    const refused = await junk(g, '203.0.113.200');
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({ error: 'rate_limited', error_description: 'too many unauthenticated requests' });
    // The IdP's address is known from its earlier verified token.
    expect((await valid(g, '192.0.2.10')).status).toBe(204);
    // Documented limit: an address never seen with a verified token waits like junk while the flood lasts.
    expect((await valid(g, '192.0.2.77')).status).toBe(429);
  });

  it('writes rejections one by one within the budget and counts the rest into one aggregated event per interval', async () => {
    const g = await gateway({ GTR_REJECTION_LOG_PER_SECOND: '2', GTR_REJECTION_LOG_INTERVAL_SECONDS: '1' });
    const started = Date.now();
    const sent: Promise<Response>[] = [];
    for (let i = 0; i < 30; i++) sent.push(junk(g, `198.51.100.${i}`));
    for (let i = 0; i < 10; i++) sent.push(junk(g, `198.51.100.${i}`, `no-such-${i}`));
    const statuses = (await Promise.all(sent)).map((r) => r.status);
    const seconds = Math.ceil((Date.now() - started) / 1000);
    expect(statuses.filter((s) => s === 401)).toHaveLength(30);
    expect(statuses.filter((s) => s === 404)).toHaveLength(10);
    // A verified request's rejection has a budget of its own: junk cannot push it out of the log.
    expect((await valid(g, '192.0.2.10', { sub_id: { format: 'opaque', id: 'nobody' } })).status).toBe(404);

    type Row = { connection: string | null; data: { description: string; details: { aggregated?: Aggregated } } };
    type Aggregated = { count: number; by_status: Record<string, number>; sample: Record<string, unknown>[]; authenticated: boolean };
    const read = (): Promise<Row[]> =>
      g.dataSource.query(`SELECT connection, data FROM log_events WHERE type = 'universal_logout_failed' ORDER BY log_id`);
    const accounted = (rows: Row[], known: boolean) =>
      rows
        .filter((r) => (known ? r.connection === 'acme' : r.connection !== 'acme'))
        .reduce((n, r) => n + (r.data.details.aggregated?.count ?? 1), 0);
    const rows = await pollUntil(read, (r) => accounted(r, true) === 31 && accounted(r, false) === 10, {
      what: 'every rejection written or counted',
    });
    const singles = rows.filter((r) => !r.data.details.aggregated);
    const aggregates = rows.filter((r) => r.data.details.aggregated);
    // Budget: 2 a second for the junk at acme, 2 for unknown names, 2 for verified rejections.
    const budget = 2 * (seconds + 1);
    expect(singles.filter((r) => r.connection === 'acme' && !/no user/.test(r.data.description)).length).toBeLessThanOrEqual(budget);
    expect(singles.filter((r) => r.connection !== 'acme').length).toBeLessThanOrEqual(budget);
    expect(singles.filter((r) => /no user matches/.test(r.data.description))).toHaveLength(1);
    const atAcme = aggregates.find((r) => r.connection === 'acme')!;
    expect(atAcme.data.details.aggregated).toMatchObject({ by_status: { 401: atAcme.data.details.aggregated!.count }, authenticated: false });
    expect(atAcme.data.details.aggregated!.sample[0]).toMatchObject({ status: 401, error: 'invalid_token', connection: 'acme', ip: expect.any(String) });
    // Names of no connection share one budget and one aggregate, under no connection.
    const unknown = aggregates.filter((r) => r.connection === null);
    expect(unknown.length).toBeGreaterThanOrEqual(1);
    for (const r of unknown) expect(r.data.details.aggregated!.by_status).toEqual({ 404: r.data.details.aggregated!.count });
  });
});
