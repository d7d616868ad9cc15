import { RunningGateway, startGateway } from './gateway.harness';

describe('Management API: connections (SPEC §6)', () => {
  let gw: RunningGateway;

  beforeAll(async () => {
    // Production URL rules: no http:, no private addresses.
    gw = await startGateway({ PUBLIC_BASE_URL: 'https://logout.example.com', ALLOW_PRIVATE_NETWORK_URLS: 'false' });
  });
  afterAll(async () => gw.close());

  it('refuses a call without a token, and one with a wrong token, with 401', async () => {
    expect((await gw.api('GET', '/api/v2/connections', undefined, null)).status).toBe(401);
    expect((await gw.api('GET', '/api/v2/connections', undefined, 'wrong-token')).status).toBe(401);
    expect((await gw.api('POST', '/api/v2/connections', { name: 'x', strategy: 'okta' }, 'wrong')).status).toBe(401);
  });

  it('creates an okta connection with its revocation endpoint URL', async () => {
    const res = await gw.api('POST', '/api/v2/connections', {
      name: 'acme-okta',
      strategy: 'okta',
      options: { issuer: 'https://acme.okta.com', client_id: '0oa1abcd' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^con_[A-Za-z0-9]{16}$/),
      name: 'acme-okta',
      strategy: 'okta',
      options: { issuer: 'https://acme.okta.com', client_id: '0oa1abcd' },
      revocation_endpoint_url: 'https://logout.example.com/oauth/global-token-revocation/connection/acme-okta',
    });
    const fetched = await gw.api('GET', `/api/v2/connections/${res.body.id}`);
    expect(fetched.body).toEqual(res.body);
  });

  it('answers 409 to a duplicate name', async () => {
    const body = { name: 'dup-conn', strategy: 'oidc', options: { issuer: 'https://idp.example.com' } };
    expect((await gw.api('POST', '/api/v2/connections', body)).status).toBe(201);
    const again = await gw.api('POST', '/api/v2/connections', body);
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/already exists/);
  });

  it.each([
    [{ name: 'bad-strategy', strategy: 'ldap' }, /strategy must be one of: okta, oidc, samlp/],
    [{ strategy: 'okta' }, /name/],
    [{ name: 'has space', strategy: 'okta' }, /name must be letters and digits/],
    [
      { name: 'half-saml', strategy: 'samlp', options: { global_token_revocation_jwt_iss: 'https://idp' } },
      /global_token_revocation_jwt_iss and options.global_token_revocation_jwt_sub must be set together/,
    ],
    [
      { name: 'bad-cert', strategy: 'samlp', options: { signing_cert: 'not a certificate' } },
      /signing_cert is not a valid X.509 certificate/,
    ],
    [{ name: 'http-issuer', strategy: 'okta', options: { issuer: 'http://acme.okta.com' } }, /issuer must use https/],
    [{ name: 'extra', strategy: 'okta', color: 'blue' }, /property color should not exist/],
  ])('answers 400 with a clear message to %j', async (body, message) => {
    const before = await gw.dataSource.query('SELECT count(*)::int AS n FROM connections');
    const res = await gw.api('POST', '/api/v2/connections', body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.anything() });
    expect(JSON.stringify(res.body.message)).toMatch(message);
    expect(await gw.dataSource.query('SELECT count(*)::int AS n FROM connections')).toEqual(before);
  });

  it('answers 404 for an unknown id on GET, PATCH and DELETE', async () => {
    expect((await gw.api('GET', '/api/v2/connections/con_unknown')).status).toBe(404);
    expect((await gw.api('PATCH', '/api/v2/connections/con_unknown', { options: {} })).status).toBe(404);
    expect((await gw.api('DELETE', '/api/v2/connections/con_unknown')).status).toBe(404);
  });

  it('updates options with the same validation, and deletes', async () => {
    const created = await gw.api('POST', '/api/v2/connections', { name: 'saml-one', strategy: 'samlp' });
    const id = created.body.id as string;
    const bad = await gw.api('PATCH', `/api/v2/connections/${id}`, {
      options: { global_token_revocation_jwt_sub: 'only-sub' },
    });
    expect(bad.status).toBe(400);
    const good = await gw.api('PATCH', `/api/v2/connections/${id}`, {
      options: { global_token_revocation_jwt_iss: 'urn:idp', global_token_revocation_jwt_sub: 'urn:sp' },
    });
    expect(good.status).toBe(200);
    expect(good.body.options).toEqual({ global_token_revocation_jwt_iss: 'urn:idp', global_token_revocation_jwt_sub: 'urn:sp' });
    expect((await gw.api('DELETE', `/api/v2/connections/${id}`)).status).toBe(204);
    expect((await gw.api('GET', `/api/v2/connections/${id}`)).status).toBe(404);
  });

  it('pages with from/take and filters by strategy', async () => {
    for (let i = 0; i < 5; i++) {
      await gw.api('POST', '/api/v2/connections', { name: `page-${i}`, strategy: i % 2 ? 'oidc' : 'okta' });
    }
    const seen: string[] = [];
    let from: string | undefined;
    do {
      const page = await gw.api('GET', `/api/v2/connections?strategy=okta&take=2${from ? `&from=${from}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.connections.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.connections.map((c: { name: string }) => c.name));
      from = page.body.next;
    } while (from);
    expect(seen.filter((n) => n.startsWith('page-')).sort()).toEqual(['page-0', 'page-2', 'page-4']);
    expect((await gw.api('GET', '/api/v2/connections?take=0')).status).toBe(400);
    expect((await gw.api('GET', '/api/v2/connections?take=101')).status).toBe(400);
  });

  it('serves an OpenAPI document', async () => {
    const res = await fetch(`${gw.baseUrl}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain('/api/v2/connections');
  });
});
