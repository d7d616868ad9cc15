import { RunningGateway, startGateway } from './gateway.harness';

const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

describe('Management API: users (SPEC §6)', () => {
  let gw: RunningGateway;
  const userPath = (id: string) => `/api/v2/users/${encodeURIComponent(id)}`;
  const count = async (table: string, userId: string): Promise<number> =>
    (await gw.dataSource.query(`SELECT count(*)::int AS n FROM ${table} WHERE user_id = $1`, [userId]))[0].n;

  beforeAll(async () => {
    gw = await startGateway();
    for (const name of ['acme-okta', 'acme-saml']) {
      const res = await gw.api('POST', '/api/v2/connections', {
        name,
        strategy: name.endsWith('okta') ? 'okta' : 'samlp',
      });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => gw.close());

  it('refuses a call without a token, and one with a wrong token, with 401', async () => {
    expect((await gw.api('POST', '/api/v2/users', { email: 'a@example.com' }, null)).status).toBe(401);
    expect((await gw.api('POST', '/api/v2/users', { email: 'a@example.com' }, 'wrong-token')).status).toBe(401);
    expect((await gw.api('GET', userPath('auth0|x'), undefined, null)).status).toBe(401);
    expect((await gw.api('DELETE', userPath('auth0|x'), undefined, 'wrong-token')).status).toBe(401);
  });

  it('creates a user with identities and reads it back', async () => {
    const body = {
      user_id: 'okta|00u1abcd',
      email: 'Jane.Doe@Example.com',
      identities: [
        { connection: 'acme-okta', provider_user_id: '00u1abcd', issuer: 'https://acme.okta.com' },
        { connection: 'acme-saml', provider_user_id: 'jane', issuer: 'urn:acme:idp' },
      ],
    };
    const res = await gw.api('POST', '/api/v2/users', body);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ ...body, created_at: iso });
    const fetched = await gw.api('GET', userPath('okta|00u1abcd'));
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(res.body);
  });

  it('keeps the email on every identity as given and normalised, for the GTR email lookup', async () => {
    await gw.api('POST', '/api/v2/users', {
      user_id: 'email-copy',
      email: 'Mixed.Case@Example.com',
      identities: [{ connection: 'acme-okta', provider_user_id: 'mixed', issuer: 'https://acme.okta.com' }],
    });
    const rows = await gw.dataSource.query(
      `SELECT i.user_id, i.email, i.email_normalized FROM user_identities i JOIN connections c ON c.id = i.connection_id
       WHERE c.name = 'acme-okta' AND i.email_normalized = $1`,
      ['mixed.case@example.com'],
    );
    expect(rows).toEqual([{ user_id: 'email-copy', email: 'Mixed.Case@Example.com', email_normalized: 'mixed.case@example.com' }]);
  });

  it('stores an IDN address as given and compares it as NFC, lower case and punycode', async () => {
    const nfd = 'Jane@Bu\u0308cher.example';
    const res = await gw.api('POST', '/api/v2/users', {
      user_id: 'idn-user',
      email: nfd,
      identities: [{ connection: 'acme-okta', provider_user_id: 'idn', issuer: 'https://acme.okta.com' }],
    });
    expect(res.status).toBe(201);
    expect(res.body.email).toBe(nfd);
    const [row] = await gw.dataSource.query(`SELECT email, email_normalized FROM user_identities WHERE user_id = 'idn-user'`);
    expect(row).toEqual({ email: nfd, email_normalized: 'jane@xn--bcher-kva.example' });
  });

  it('identifies the connection of an identity by id: deleting the connection deletes its identities, not its users', async () => {
    expect((await gw.api('POST', '/api/v2/connections', { name: 'short-lived', strategy: 'okta' })).status).toBe(201);
    const shortLived = { connection: 'short-lived', provider_user_id: '00u-mortal', issuer: 'https://old.okta.com' };
    const kept = { connection: 'acme-saml', provider_user_id: 'mortal', issuer: 'urn:acme:idp' };
    expect((await gw.api('POST', '/api/v2/users', { user_id: 'mortal', identities: [shortLived, kept] })).status).toBe(201);
    const [{ id }] = await gw.dataSource.query(`SELECT id FROM connections WHERE name = 'short-lived'`);
    const [identity] = await gw.dataSource.query(`SELECT connection_id FROM user_identities WHERE provider_user_id = '00u-mortal'`);
    expect(identity).toEqual({ connection_id: id });

    expect((await gw.api('DELETE', `/api/v2/connections/${id}`)).status).toBe(204);
    const after = await gw.api('GET', userPath('mortal'));
    expect(after.status).toBe(200);
    expect(after.body.identities).toEqual([kept]);

    // A new connection with the old name starts without identities; the old one's may be registered again.
    expect((await gw.api('POST', '/api/v2/connections', { name: 'short-lived', strategy: 'okta' })).status).toBe(201);
    expect((await gw.api('GET', userPath('mortal'))).body.identities).toEqual([kept]);
    expect((await gw.api('POST', '/api/v2/users', { user_id: 'successor', identities: [shortLived] })).status).toBe(201);
    expect((await gw.api('GET', userPath('successor'))).body.identities).toEqual([shortLived]);
  });

  it('generates an Auth0-shaped user_id when none is given', async () => {
    const res = await gw.api('POST', '/api/v2/users', { email: 'generated@example.com' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      user_id: expect.stringMatching(/^auth0\|[0-9a-f]{24}$/),
      email: 'generated@example.com',
      identities: [],
      created_at: iso,
    });
    expect((await gw.api('GET', userPath(res.body.user_id))).status).toBe(200);
  });

  it('answers 409 to a duplicate user_id', async () => {
    expect((await gw.api('POST', '/api/v2/users', { user_id: 'dup-user' })).status).toBe(201);
    const again = await gw.api('POST', '/api/v2/users', { user_id: 'dup-user', email: 'other@example.com' });
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/user_id "dup-user" already exists/);
    expect((await gw.api('GET', userPath('dup-user'))).body).not.toHaveProperty('email');
  });

  it('answers 409 to an identity another user already has, and creates nothing', async () => {
    const identity = { connection: 'acme-okta', provider_user_id: '00u-shared', issuer: 'https://acme.okta.com' };
    expect((await gw.api('POST', '/api/v2/users', { user_id: 'first-owner', identities: [identity] })).status).toBe(
      201,
    );
    const res = await gw.api('POST', '/api/v2/users', { user_id: 'second-owner', identities: [identity] });
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/identity with this connection, issuer and provider_user_id already exists/);
    expect((await gw.api('GET', userPath('second-owner'))).status).toBe(404);

    const twice = await gw.api('POST', '/api/v2/users', {
      user_id: 'twice',
      identities: [
        { ...identity, provider_user_id: 'x' },
        { ...identity, provider_user_id: 'x' },
      ],
    });
    expect(twice.status).toBe(409);
    expect((await gw.api('GET', userPath('twice'))).status).toBe(404);
  });

  const identity = { connection: 'acme-okta', provider_user_id: '00u9', issuer: 'https://acme.okta.com' };
  it.each([
    [
      { user_id: 'u-bad-conn', identities: [identity, { ...identity, connection: 'nope' }] },
      /identities\[1\]\.connection "nope" is not the name of a connection/,
    ],
    [
      { user_id: 'u-no-issuer', identities: [{ connection: 'acme-okta', provider_user_id: '00u9' }] },
      /identities\.0\.issuer must be a string/,
    ],
    [
      { user_id: 'u-empty-sub', identities: [{ ...identity, provider_user_id: '' }] },
      /provider_user_id must be longer than or equal to 1 characters/,
    ],
    [{ user_id: 'u-extra-identity', identities: [{ ...identity, colour: 'red' }] }, /property colour should not exist/],
    [{ user_id: 'u-identities-object', identities: identity }, /identities must be an array/],
    [{ user_id: 'u-bad-email', email: 'not-an-email' }, /email must be an email address/],
    [{ user_id: 'u-bad-idn', email: 'jane@xn--a.example' }, /email must be an email address with a valid domain name/],
    [{ user_id: 'has space' }, /user_id must not contain whitespace or "\/"/],
    [{ user_id: 'u-extra', colour: 'red' }, /property colour should not exist/],
  ])('answers 400 with a clear message to %j, and creates nothing', async (body, message) => {
    const res = await gw.api('POST', '/api/v2/users', body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.anything() });
    expect([res.body.message].flat().join('; ')).toMatch(message);
    expect(await count('users', body.user_id)).toBe(0);
  });

  it('answers 404 for an unknown user_id on GET and DELETE', async () => {
    const get = await gw.api('GET', userPath('auth0|unknown'));
    expect(get.status).toBe(404);
    expect(get.body.message).toBe('No user with user_id auth0|unknown');
    expect((await gw.api('DELETE', userPath('auth0|unknown'))).status).toBe(404);
  });

  it('deletes with 204, taking its identities, sessions and refresh tokens along', async () => {
    const doomed = 'auth0|doomed';
    const identity = { connection: 'acme-okta', provider_user_id: '00u-doomed', issuer: 'https://acme.okta.com' };
    expect((await gw.api('POST', '/api/v2/users', { user_id: doomed, identities: [identity] })).status).toBe(201);
    expect((await gw.api('POST', '/api/v2/users', { user_id: 'auth0|bystander' })).status).toBe(201);
    const session = await gw.api('POST', '/api/v2/sessions', {
      id: 'doomed-session',
      user_id: doomed,
      clients: [{ client_id: 'app' }],
    });
    expect(session.status).toBe(201);
    const token = await gw.api('POST', '/api/v2/refresh-tokens', {
      id: 'doomed-token',
      user_id: doomed,
      client_id: 'app',
      session_id: 'doomed-session',
    });
    expect(token.status).toBe(201);
    expect(
      (await gw.api('POST', '/api/v2/sessions', { id: 'bystander-session', user_id: 'auth0|bystander' })).status,
    ).toBe(201);

    expect((await gw.api('DELETE', userPath(doomed))).status).toBe(204);

    expect((await gw.api('GET', userPath(doomed))).status).toBe(404);
    expect((await gw.api('GET', '/api/v2/sessions/doomed-session')).status).toBe(404);
    expect((await gw.api('GET', '/api/v2/refresh-tokens/doomed-token')).status).toBe(404);
    for (const table of ['user_identities', 'sessions', 'refresh_tokens']) expect(await count(table, doomed)).toBe(0);
    expect(await gw.dataSource.query(`SELECT * FROM session_clients WHERE session_id = 'doomed-session'`)).toEqual([]);
    expect((await gw.api('GET', '/api/v2/sessions/bystander-session')).status).toBe(200);
    // The identity is free again.
    expect((await gw.api('POST', '/api/v2/users', { user_id: 'auth0|heir', identities: [identity] })).status).toBe(201);
  });
});
