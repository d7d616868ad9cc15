import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { FakeIdp } from '@ulo/testing';
import { SafeHttpClient } from '@ulo/security';
import { RunningGateway, startGateway } from './gateway.harness';
import { ConnectionTrap, json, KeyServer, redirect, startConnectionTrap } from './key-servers';
import { revocationState } from './revocation.fixtures';

const BASE = 'https://logout.example.com';
// What the gateway answers when a connection's keys cannot be had (SPEC §2: 401 invalid_token), written out.
const KEYS_UNAVAILABLE = 'the identity provider keys could not be obtained';
const OUTBOUND_TIMEOUT_MS = 1500;

/**
 * SPEC §2.2 key sets and §4 URL rules: discovery and JWKS go through the same outbound client and
 * URL policy as back-channel and log-stream calls, and every key-fetch failure answers the same 401.
 */
describe('IdP keys are fetched like every other outbound call', () => {
  let idp: FakeIdp;
  let trap: ConnectionTrap;
  let keys: KeyServer;
  let warn: jest.SpyInstance;

  beforeAll(async () => {
    idp = await FakeIdp.start();
    trap = await startConnectionTrap();
    keys = await KeyServer.start();
  });
  afterAll(async () => {
    await keys.close();
    await trap.close();
    await idp.close();
  });
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn');
  });
  afterEach(() => jest.restoreAllMocks());

  /** A revocation request for `connection`, signed by the fake IdP with the claims the connection expects. */
  async function revoke(gw: RunningGateway, connection: string, claims: Record<string, unknown>) {
    const token = await idp.sign({ audience: `${BASE}/oauth/global-token-revocation/connection/${connection}`, claims });
    const started = Date.now();
    const res = await fetch(`${gw.baseUrl}/oauth/global-token-revocation/connection/${connection}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub_id: { format: 'iss_sub', iss: String(claims.iss), sub: '00uNobody' } }),
    });
    const body = (await res.json()) as { error: string; error_description: string };
    return { status: res.status, error: body.error, description: body.error_description, elapsedMs: Date.now() - started };
  }

  /** Our log's warnings about a connection's keys (the detail the caller never sees). */
  const keyWarnings = (connection: string) =>
    warn.mock.calls.map((c) => String(c[0])).filter((m) => m.startsWith(`keys of connection ${connection} `));

  const keysUnavailable = { status: 401, error: 'invalid_token', description: KEYS_UNAVAILABLE };

  describe('with ALLOW_PRIVATE_NETWORK_URLS=false (production)', () => {
    let gw: RunningGateway;
    const discovery = new Map<string, string>();

    beforeAll(async () => {
      gw = await startGateway({
        PUBLIC_BASE_URL: BASE,
        ALLOW_PRIVATE_NETWORK_URLS: 'false',
        OUTBOUND_TIMEOUT_MS: String(OUTBOUND_TIMEOUT_MS),
      });
    });
    afterAll(() => gw.close());

    // The Management API refuses these URLs now; a connection may still hold one (written under a
    // looser setting, or by hand), so they go straight into the table.
    async function insertConnection(strategy: 'okta' | 'samlp', options: Record<string, string>): Promise<string> {
      const name = `c-${randomUUID().slice(0, 8)}`;
      await gw.dataSource.query(`INSERT INTO connections (id, name, strategy, options) VALUES ($1, $2, $3, $4)`, [
        `con_${randomUUID().replace(/-/g, '')}`,
        name,
        strategy,
        JSON.stringify(options),
      ]);
      return name;
    }

    const refusedUrls = (port: number) => [
      ['http:', `http://127.0.0.1:${port}/keys`],
      ['a loopback IP literal', `https://127.0.0.1:${port}/keys`],
      ['a loopback IP literal in decimal', `https://2130706433:${port}/keys`],
      ['the unspecified address', `https://0.0.0.0:${port}/keys`],
      ['an IPv4-mapped IPv6 literal', `https://[::ffff:127.0.0.1]:${port}/keys`],
      ['the IPv6 loopback literal', `https://[::1]:${port}/keys`],
      ['localhost', `https://localhost:${port}/keys`],
      ['the cloud metadata address', 'https://169.254.169.254/latest/meta-data/keys'],
      ['a private address', 'https://10.0.0.1/keys'],
    ];

    it.each(refusedUrls(0).map(([what], i) => [what, i] as const))(
      'refuses a configured jwks_uri at %s before any connection, with the one 401',
      async (what, i) => {
        const [, url] = refusedUrls(trap.port)[i];
        const issuer = 'https://idp.example.com';
        const name = await insertConnection('okta', { issuer, client_id: idp.clientId, jwks_uri: url });
        const before = await revocationState(gw.dataSource);

        const res = await revoke(gw, name, { iss: issuer });

        expect({ status: res.status, error: res.error, description: res.description }).toEqual(keysUnavailable);
        expect(trap.connections).toBe(0);
        // Refused without the network: no connect attempt to wait for (10.0.0.1 may hang until the deadline).
        expect(res.elapsedMs).toBeLessThan(OUTBOUND_TIMEOUT_MS);
        expect(await revocationState(gw.dataSource)).toEqual(before);
        // The detail is ours: which URL, and why.
        const [logged] = keyWarnings(name);
        expect(logged).toContain(url);
        expect(logged).toMatch(what === 'http:' ? /must use https/ : /loopback or private network address/);
      },
    );

    it('refuses an issuer on loopback: its discovery document is never asked for', async () => {
      for (const issuer of [`http://127.0.0.1:${trap.port}`, `https://127.0.0.1:${trap.port}`, `https://localhost:${trap.port}/oauth2/default`]) {
        const name = await insertConnection('okta', { issuer, client_id: idp.clientId });
        const res = await revoke(gw, name, { iss: issuer });
        expect({ status: res.status, error: res.error, description: res.description }).toEqual(keysUnavailable);
        expect(keyWarnings(name)[0]).toContain('/.well-known/openid-configuration');
      }
      expect(trap.connections).toBe(0);
    });

    it('refuses a samlp global_token_revocation_jwks_uri on loopback before any connection', async () => {
      const name = await insertConnection('samlp', {
        global_token_revocation_jwt_iss: 'http://www.okta.com/exk1saml',
        global_token_revocation_jwt_sub: `${BASE}/sp`,
        global_token_revocation_jwks_uri: `https://127.0.0.1:${trap.port}/keys`,
      });
      const res = await revoke(gw, name, { iss: 'http://www.okta.com/exk1saml', sub: `${BASE}/sp` });
      expect({ status: res.status, error: res.error, description: res.description }).toEqual(keysUnavailable);
      expect(trap.connections).toBe(0);
    });

    describe('a jwks_uri named by discovery', () => {
      // No public https issuer is reachable from a test, and every loopback address is refused
      // here; so the discovery answer of an issuer on a public name is given at the client, and
      // what the gateway does with the jwks_uri it names (check it, then fetch it) runs for real.
      beforeEach(() => {
        const original = SafeHttpClient.prototype.getJson;
        jest.spyOn(SafeHttpClient.prototype, 'getJson').mockImplementation(async function (this: SafeHttpClient, url, options) {
          const jwksUri = discovery.get(url);
          if (jwksUri !== undefined) return { issuer: url.replace('/.well-known/openid-configuration', ''), jwks_uri: jwksUri };
          return original.call(this, url, options);
        });
      });

      it.each(refusedUrls(0).map(([what], i) => [what, i] as const))(
        'refuses a discovered jwks_uri at %s before any connection, with the one 401',
        async (_what, i) => {
          const [, url] = refusedUrls(trap.port)[i];
          const issuer = `https://idp-${randomUUID().slice(0, 8)}.example.com`;
          discovery.set(`${issuer}/.well-known/openid-configuration`, url);
          const created = await gw.api('POST', '/api/v2/connections', {
            name: `d-${randomUUID().slice(0, 8)}`,
            strategy: 'okta',
            options: { issuer, client_id: idp.clientId },
          });
          expect(created.status).toBe(201);

          const res = await revoke(gw, created.body.name as string, { iss: issuer });

          expect({ status: res.status, error: res.error, description: res.description }).toEqual(keysUnavailable);
          expect(trap.connections).toBe(0);
          expect(res.elapsedMs).toBeLessThan(OUTBOUND_TIMEOUT_MS);
          // Discovery answered; the URL it named is what the policy refused.
          const [logged] = keyWarnings(created.body.name as string);
          expect(logged).toContain(url);
          expect(logged).toMatch(/(must use https|loopback or private network address)$/);
        },
      );
    });

    it('logs the detail at warn at most once per connection per window, and answers every request the same', async () => {
      const name = await insertConnection('okta', { issuer: 'https://idp.example.com', client_id: idp.clientId, jwks_uri: `https://127.0.0.1:${trap.port}/k` });
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await revoke(gw, name, { iss: 'https://idp.example.com' }));
      expect(new Set(answers.map((a) => `${a.status} ${a.description}`))).toEqual(new Set([`401 ${KEYS_UNAVAILABLE}`]));
      expect(keyWarnings(name)).toHaveLength(1);
      expect(trap.connections).toBe(0);
    });
  });

  describe('transport rules that hold in every mode (ALLOW_PRIVATE_NETWORK_URLS=true)', () => {
    let gw: RunningGateway;
    let goneServerPort: number;
    const descriptions: string[] = [];

    beforeAll(async () => {
      gw = await startGateway({ PUBLIC_BASE_URL: BASE, OUTBOUND_TIMEOUT_MS: String(OUTBOUND_TIMEOUT_MS) });
      // A port that answered once and no longer listens: connection refused.
      const gone = await startConnectionTrap();
      goneServerPort = gone.port;
      await gone.close();
    });
    afterAll(() => gw.close());

    async function connectionFor(issuer: string): Promise<string> {
      const name = `t-${randomUUID().slice(0, 8)}`;
      const created = await gw.api('POST', '/api/v2/connections', { name, strategy: 'okta', options: { issuer, client_id: idp.clientId } });
      expect(created.status).toBe(201);
      return name;
    }

    async function expectKeysUnavailable(issuer: string) {
      const name = await connectionFor(issuer);
      const res = await revoke(gw, name, { iss: issuer });
      descriptions.push(res.description);
      expect({ status: res.status, error: res.error, description: res.description }).toEqual(keysUnavailable);
      return { res, name };
    }

    const keySet = () => ({ keys: [idp.currentKey.publicJwk] });

    it('uses a well-behaved IdP (the control: the 404 says the token verified)', async () => {
      const issuer = keys.issuer('good', keys.route('/good/keys', json(keySet())));
      const res = await revoke(gw, await connectionFor(issuer), { iss: issuer });
      expect({ status: res.status, error: res.error }).toEqual({ status: 404, error: 'not_found' });
    });

    it('does not follow a redirect from the key set URL', async () => {
      const issuer = keys.issuer('redirected-keys', keys.route('/redirected-keys/keys', redirect(`http://127.0.0.1:${trap.port}/keys`)));
      const { name } = await expectKeysUnavailable(issuer);
      expect(trap.connections).toBe(0);
      expect(keyWarnings(name)[0]).toMatch(/answered 302; redirects are not followed/);
    });

    it('does not follow a redirect from the discovery URL', async () => {
      keys.route('/redirected-discovery/.well-known/openid-configuration', redirect(`http://127.0.0.1:${trap.port}/.well-known/openid-configuration`));
      await expectKeysUnavailable(`${keys.base}/redirected-discovery`);
      expect(trap.connections).toBe(0);
    });

    it('refuses a key set over 256 KiB, and reads one under it', async () => {
      const padded = (kib: number) => ({ ...keySet(), padding: 'x'.repeat(kib * 1024) });
      const big = keys.issuer('big', keys.route('/big/keys', json(padded(300))));
      const { name } = await expectKeysUnavailable(big);
      expect(keyWarnings(name)[0]).toMatch(/exceeds 262144 bytes/);

      const fits = keys.issuer('fits', keys.route('/fits/keys', json(padded(200))));
      const res = await revoke(gw, await connectionFor(fits), { iss: fits });
      expect(res.status).toBe(404);
    });

    it('refuses a discovery document over 256 KiB', async () => {
      keys.route('/big-discovery/.well-known/openid-configuration', json({ jwks_uri: `${keys.base}/good/keys`, padding: 'x'.repeat(300 * 1024) }));
      await expectKeysUnavailable(`${keys.base}/big-discovery`);
    });

    it.each([
      ['a key set that is not JSON', (r: KeyServer) => r.route('/not-json/keys', (_q, s) => s.end('<html>'))],
      ['a key set that is not a key set', (r: KeyServer) => r.route('/not-a-set/keys', json({ keys: 'none' }))],
      ['a key server answering 500', (r: KeyServer) => r.route('/failing/keys', json({ error: 'boom' }, 500))],
      ['a key server that is gone', () => `http://127.0.0.1:${goneServerPort}/keys`],
    ])('answers the one 401 for %s', async (what, keysUrl) => {
      const slug = what.replace(/\W+/g, '-');
      await expectKeysUnavailable(keys.issuer(slug, keysUrl(keys)));
    });

    it('answers within OUTBOUND_TIMEOUT_MS when the key server sends headers, then one byte every 2 s', async () => {
      const issuer = keys.issuer('trickle', keys.route('/trickle/keys', keys.trickle(2000)));
      const { res, name } = await expectKeysUnavailable(issuer);
      expect(res.elapsedMs).toBeGreaterThanOrEqual(OUTBOUND_TIMEOUT_MS - 50);
      expect(res.elapsedMs).toBeLessThan(OUTBOUND_TIMEOUT_MS + 1000);
      expect(keyWarnings(name)[0]).toMatch(/timed out after 1500 ms/);

      // The next request of that connection is cut at the deadline too: nothing hangs for good.
      const again = await revoke(gw, name, { iss: issuer });
      expect(again.status).toBe(401);
      expect(again.elapsedMs).toBeLessThan(OUTBOUND_TIMEOUT_MS + 1000);
    });

    it('answers within OUTBOUND_TIMEOUT_MS when discovery trickles', async () => {
      keys.route('/trickle-discovery/.well-known/openid-configuration', keys.trickle(2000));
      const { res } = await expectKeysUnavailable(`${keys.base}/trickle-discovery`);
      expect(res.elapsedMs).toBeLessThan(OUTBOUND_TIMEOUT_MS + 1000);
    });

    // Runs last: an outsider learns nothing from the description about which rule a fetch broke.
    it('told the caller the same thing for every key-fetch failure above', () => {
      expect(descriptions.length).toBeGreaterThanOrEqual(10);
      expect([...new Set(descriptions)]).toEqual([KEYS_UNAVAILABLE]);
    });
  });
});
