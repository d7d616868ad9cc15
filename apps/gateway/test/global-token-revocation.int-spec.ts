import { generateKeyPair, SignJWT } from 'jose';
import { createSecretKey } from 'node:crypto';
import { FakeIdp, pollUntil, samlSigningMaterial } from '@ulo/testing';
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
    user = await seedUser(gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub, email: 'Ann.Smith@Example.com' });
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
    it('404 for an unknown user', async () => {
      const token = await idp.sign({ audience });
      const res = await post(token, { sub_id: { format: 'iss_sub', iss: idp.issuer, sub: '00uNobody' } });
      await expectRejected(res, 404, 'not_found', /no user matches/);
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

  it('answers 429 with Retry-After beyond the per-connection rate limit', async () => {
    const limited = await startGateway({ GTR_RATE_LIMIT_PER_SECOND: '1', GTR_RATE_LIMIT_BURST: '2' });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${limited.baseUrl}/oauth/global-token-revocation/connection/rl`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        statuses.push(res.status);
        if (res.status === 429) retryAfter = res.headers.get('retry-after');
      }
      expect(statuses.slice(2)).toEqual([429, 429]);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    } finally {
      await limited.close();
    }
  });
});
