import { RunningGateway, startGateway } from './gateway.harness';

const receiver = 'http://127.0.0.1:4100/backchannel-logout';

describe('Management API: clients (SPEC §6)', () => {
  describe('with private network URLs allowed (development)', () => {
    let gw: RunningGateway;

    beforeAll(async () => {
      gw = await startGateway({ ALLOW_PRIVATE_NETWORK_URLS: 'true' });
    });
    afterAll(async () => gw.close());

    it('refuses a call without a token, and one with a wrong token, with 401', async () => {
      expect((await gw.api('GET', '/api/v2/clients', undefined, null)).status).toBe(401);
      expect((await gw.api('GET', '/api/v2/clients', undefined, 'wrong-token')).status).toBe(401);
      expect((await gw.api('POST', '/api/v2/clients', { name: 'x' }, 'wrong-token')).status).toBe(401);
      expect((await gw.api('GET', '/api/v2/clients/any', undefined, null)).status).toBe(401);
      expect((await gw.api('PATCH', '/api/v2/clients/any', { name: 'y' }, null)).status).toBe(401);
      expect((await gw.api('DELETE', '/api/v2/clients/any', undefined, 'wrong-token')).status).toBe(401);
    });

    it('generates a 32-character client_id and defaults the initiators to rp-logout and idp-logout', async () => {
      const res = await gw.api('POST', '/api/v2/clients', {
        name: 'Portal',
        oidc_logout: { backchannel_logout_urls: [receiver] },
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        client_id: expect.stringMatching(/^[A-Za-z0-9]{32}$/),
        name: 'Portal',
        oidc_logout: {
          backchannel_logout_urls: [receiver],
          backchannel_logout_initiators: { mode: 'custom', selected_initiators: ['rp-logout', 'idp-logout'] },
          backchannel_logout_session_required: true,
          backchannel_logout_signing_alg: 'RS256',
        },
      });
      const fetched = await gw.api('GET', `/api/v2/clients/${res.body.client_id}`);
      expect(fetched.status).toBe(200);
      expect(fetched.body).toEqual(res.body);
    });

    it('keeps a given client_id and the given initiators', async () => {
      const oidcLogout = {
        backchannel_logout_urls: ['https://app.example.com/logout'],
        backchannel_logout_initiators: { mode: 'custom', selected_initiators: ['session-revoked', 'account-deleted'] },
      };
      const res = await gw.api('POST', '/api/v2/clients', {
        client_id: 'given-id',
        name: 'Given',
        oidc_logout: oidcLogout,
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        client_id: 'given-id',
        name: 'Given',
        oidc_logout: { ...oidcLogout, backchannel_logout_session_required: true, backchannel_logout_signing_alg: 'RS256' },
      });

      const all = await gw.api('POST', '/api/v2/clients', {
        client_id: 'mode-all',
        name: 'All',
        oidc_logout: { backchannel_logout_urls: [receiver], backchannel_logout_initiators: { mode: 'all' } },
      });
      expect(all.status).toBe(201);
      expect(all.body.oidc_logout.backchannel_logout_initiators).toEqual({ mode: 'all', selected_initiators: [] });

      const plain = await gw.api('POST', '/api/v2/clients', { client_id: 'no-logout', name: 'No back-channel' });
      expect(plain.status).toBe(201);
      expect(plain.body).toEqual({ client_id: 'no-logout', name: 'No back-channel' });
    });

    it('stores whether a client requires sid and its signing algorithm, and shows the defaults of a client stored without them', async () => {
      const oidcLogout = {
        backchannel_logout_urls: [receiver],
        backchannel_logout_initiators: { mode: 'all', selected_initiators: [] },
        backchannel_logout_session_required: false,
        backchannel_logout_signing_alg: 'EdDSA',
      };
      const res = await gw.api('POST', '/api/v2/clients', { client_id: 'sub-only-eddsa', name: 'Sub only', oidc_logout: oidcLogout });
      expect(res.status).toBe(201);
      expect(res.body.oidc_logout).toEqual(oidcLogout);
      const [stored] = await gw.dataSource.query(`SELECT oidc_logout FROM clients WHERE client_id = 'sub-only-eddsa'`);
      expect(stored.oidc_logout).toEqual(oidcLogout);

      const es = await gw.api('PATCH', '/api/v2/clients/sub-only-eddsa', {
        oidc_logout: { backchannel_logout_urls: [receiver], backchannel_logout_signing_alg: 'ES256' },
      });
      expect(es.status).toBe(200);
      expect(es.body.oidc_logout).toMatchObject({ backchannel_logout_session_required: true, backchannel_logout_signing_alg: 'ES256' });

      await gw.dataSource.query(`INSERT INTO clients (client_id, name, oidc_logout) VALUES ('stored-before', 'Old', $1)`, [
        JSON.stringify({ backchannel_logout_urls: [receiver], backchannel_logout_initiators: { mode: 'all', selected_initiators: [] } }),
      ]);
      expect((await gw.api('GET', '/api/v2/clients/stored-before')).body.oidc_logout).toEqual({
        backchannel_logout_urls: [receiver],
        backchannel_logout_initiators: { mode: 'all', selected_initiators: [] },
        backchannel_logout_session_required: true,
        backchannel_logout_signing_alg: 'RS256',
      });
    });

    it('answers 409 to a client_id that exists, and leaves the first one as it was', async () => {
      expect((await gw.api('POST', '/api/v2/clients', { client_id: 'dup-client', name: 'First' })).status).toBe(201);
      const again = await gw.api('POST', '/api/v2/clients', { client_id: 'dup-client', name: 'Second' });
      expect(again.status).toBe(409);
      expect(again.body.message).toMatch(/client_id "dup-client" already exists/);
      expect((await gw.api('GET', '/api/v2/clients/dup-client')).body.name).toBe('First');
    });

    const withUrls = (urls: unknown, initiators?: unknown) => ({
      name: 'Bad',
      oidc_logout: {
        backchannel_logout_urls: urls,
        ...(initiators ? { backchannel_logout_initiators: initiators } : {}),
      },
    });

    it.each([
      [withUrls(['https://app.example.com/logout#frag']), /backchannel_logout_urls\[0\] must not contain a fragment/],
      [withUrls(['/relative/logout']), /backchannel_logout_urls\[0\] must be an absolute URL/],
      [withUrls(['ftp://app.example.com/logout']), /backchannel_logout_urls\[0\] must use https/],
      [withUrls(['https://user:pw@app.example.com/logout']), /must not contain credentials/],
      [withUrls([]), /backchannel_logout_urls must hold exactly one URL/],
      [withUrls([receiver, 'https://other.example.com/logout']), /backchannel_logout_urls must hold exactly one URL/],
      [withUrls(receiver), /backchannel_logout_urls must be an array/],
      [withUrls([receiver], { mode: 'some' }), /mode must be one of: custom, all/],
      [
        withUrls([receiver], { mode: 'custom' }),
        /selected_initiators must be an array \(required when mode is custom\)/,
      ],
      [
        withUrls([receiver], { mode: 'custom', selected_initiators: ['rp-logout', 'user-bored'] }),
        /selected_initiators may hold only: rp-logout/,
      ],
      [withUrls([receiver], { mode: 'custom', selected_initiators: ['rp-logout', 'rp-logout'] }), /must not repeat/],
      [
        { name: 'Bad', oidc_logout: { backchannel_logout_urls: [receiver], colour: 'red' } },
        /property colour should not exist/,
      ],
      [{ name: 'Bad', oidc_logout: 'yes' }, /oidc_logout must be an object/],
      [
        { name: 'Bad', oidc_logout: { backchannel_logout_urls: [receiver], backchannel_logout_session_required: 'no' } },
        /backchannel_logout_session_required must be true or false/,
      ],
      [
        { name: 'Bad', oidc_logout: { backchannel_logout_urls: [receiver], backchannel_logout_signing_alg: 'HS256' } },
        /backchannel_logout_signing_alg must be one of: RS256, ES256, EdDSA/,
      ],
      [{ client_id: 'has space', name: 'Bad' }, /client_id must be letters, digits/],
      [{ client_id: 'bad-no-name' }, /name must be a string/],
      [{ name: 'Bad', colour: 'red' }, /property colour should not exist/],
    ])('answers 400 with a clear message to %j, and stores nothing', async (body, message) => {
      const before = await gw.dataSource.query(`SELECT count(*)::int AS n FROM clients`);
      const res = await gw.api('POST', '/api/v2/clients', body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.anything() });
      expect([res.body.message].flat().join('; ')).toMatch(message);
      expect(await gw.dataSource.query(`SELECT count(*)::int AS n FROM clients`)).toEqual(before);
    });

    it('updates the name and replaces or removes the back-channel settings, with the same validation', async () => {
      const created = await gw.api('POST', '/api/v2/clients', { client_id: 'patch-me', name: 'Old' });
      expect(created.status).toBe(201);

      const renamed = await gw.api('PATCH', '/api/v2/clients/patch-me', { name: 'New' });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toEqual({ client_id: 'patch-me', name: 'New' });

      const withLogout = await gw.api('PATCH', '/api/v2/clients/patch-me', {
        oidc_logout: { backchannel_logout_urls: [receiver], backchannel_logout_initiators: { mode: 'all' } },
      });
      expect(withLogout.status).toBe(200);
      expect(withLogout.body.oidc_logout).toEqual({
        backchannel_logout_urls: [receiver],
        backchannel_logout_initiators: { mode: 'all', selected_initiators: [] },
        backchannel_logout_session_required: true,
        backchannel_logout_signing_alg: 'RS256',
      });

      const bad = await gw.api('PATCH', '/api/v2/clients/patch-me', {
        oidc_logout: { backchannel_logout_urls: ['https://app.example.com/#x'] },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/must not contain a fragment/);
      const renameId = await gw.api('PATCH', '/api/v2/clients/patch-me', { client_id: 'other' });
      expect(renameId.status).toBe(400);
      expect([renameId.body.message].flat().join('; ')).toMatch(/property client_id should not exist/);
      const nullName = await gw.api('PATCH', '/api/v2/clients/patch-me', { name: null });
      expect(nullName.status).toBe(400);
      expect((await gw.api('GET', '/api/v2/clients/patch-me')).body).toEqual(withLogout.body);

      const cleared = await gw.api('PATCH', '/api/v2/clients/patch-me', { oidc_logout: null });
      expect(cleared.status).toBe(200);
      expect(cleared.body).toEqual({ client_id: 'patch-me', name: 'New' });
    });

    it('answers 404 for an unknown client_id on GET, PATCH and DELETE', async () => {
      const get = await gw.api('GET', '/api/v2/clients/unknown-client');
      expect(get.status).toBe(404);
      expect(get.body.message).toBe('No client with client_id unknown-client');
      expect((await gw.api('PATCH', '/api/v2/clients/unknown-client', { name: 'x' })).status).toBe(404);
      expect((await gw.api('DELETE', '/api/v2/clients/unknown-client')).status).toBe(404);
    });

    it('deletes with 204, after which the client is unknown', async () => {
      await gw.api('POST', '/api/v2/clients', { client_id: 'delete-me', name: 'Doomed' });
      expect((await gw.api('DELETE', '/api/v2/clients/delete-me')).status).toBe(204);
      expect((await gw.api('GET', '/api/v2/clients/delete-me')).status).toBe(404);
      expect((await gw.api('DELETE', '/api/v2/clients/delete-me')).status).toBe(404);
    });

    it('pages in client_id order with from/take', async () => {
      await gw.dataSource.query(`DELETE FROM clients`);
      const ids = ['page-1', 'page-2', 'page-3', 'page-4', 'page-5'];
      for (const id of [...ids].reverse()) {
        expect((await gw.api('POST', '/api/v2/clients', { client_id: id, name: id })).status).toBe(201);
      }
      const first = await gw.api('GET', '/api/v2/clients?take=2');
      expect(first.status).toBe(200);
      expect(first.body.clients.map((c: { client_id: string }) => c.client_id)).toEqual(['page-1', 'page-2']);
      expect(first.body.next).toBe('page-2');

      const seen: string[] = [];
      let from: string | undefined;
      do {
        const page = await gw.api('GET', `/api/v2/clients?take=2${from ? `&from=${from}` : ''}`);
        expect(page.body.clients.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.clients.map((c: { client_id: string }) => c.client_id));
        from = page.body.next;
      } while (from);
      expect(seen).toEqual(ids);

      const last = await gw.api('GET', '/api/v2/clients?from=page-4&take=2');
      expect(last.body).toEqual({ clients: [expect.objectContaining({ client_id: 'page-5' })] });
      expect((await gw.api('GET', '/api/v2/clients?take=0')).status).toBe(400);
      expect((await gw.api('GET', '/api/v2/clients?take=101')).status).toBe(400);
    });
  });

  describe('with ALLOW_PRIVATE_NETWORK_URLS=false (production)', () => {
    let gw: RunningGateway;

    beforeAll(async () => {
      gw = await startGateway({ ALLOW_PRIVATE_NETWORK_URLS: 'false' });
    });
    afterAll(async () => gw.close());

    it.each([
      ['http://app.example.com/logout', /backchannel_logout_urls\[0\] must use https/],
      ['http://127.0.0.1:4100/logout', /backchannel_logout_urls\[0\] must use https/],
      ['https://127.0.0.1/logout', /must not point at a loopback or private network address/],
      ['https://localhost/logout', /must not point at a loopback or private network address/],
      ['https://10.1.2.3/logout', /must not point at a loopback or private network address/],
      ['https://[::1]/logout', /must not point at a loopback or private network address/],
    ])('refuses %s with 400 and the reason', async (url, message) => {
      const res = await gw.api('POST', '/api/v2/clients', {
        name: 'Prod',
        oidc_logout: { backchannel_logout_urls: [url] },
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(message) });
    });

    it('accepts a public https URL, and refuses to PATCH it to http', async () => {
      const created = await gw.api('POST', '/api/v2/clients', {
        client_id: 'prod-app',
        name: 'Prod',
        oidc_logout: { backchannel_logout_urls: ['https://app.example.com/backchannel-logout'] },
      });
      expect(created.status).toBe(201);
      const patched = await gw.api('PATCH', '/api/v2/clients/prod-app', {
        oidc_logout: { backchannel_logout_urls: ['http://app.example.com/backchannel-logout'] },
      });
      expect(patched.status).toBe(400);
      expect(patched.body.message).toMatch(/must use https/);
      expect((await gw.api('GET', '/api/v2/clients/prod-app')).body).toEqual(created.body);
    });
  });
});
