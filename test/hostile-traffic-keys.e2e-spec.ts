import { randomUUID } from 'node:crypto';
import { FakeIdp, pollUntil, samlSigningMaterial } from '@ulo/testing';
import { SafeHttpClient } from '@ulo/security';
import { ConnectionTrap, KeyServer, startConnectionTrap } from '../apps/gateway/test/key-servers';
import { seedUser } from '../apps/gateway/test/revocation.fixtures';
import { RunningPipeline, startPipeline } from './support/pipeline';

const BASE = 'https://logout.example.com';
// What the gateway answers when a connection's keys cannot be had (SPEC §2: 401 invalid_token), written out.
const KEYS_UNAVAILABLE = 'the identity provider keys could not be obtained';
// Long enough that a busy machine answers a healthy request well within it; the key server trickles slower.
const OUTBOUND_TIMEOUT_MS = 3000;
const audienceOf = (connection: string) => `${BASE}/oauth/global-token-revocation/connection/${connection}`;

/**
 * SPEC §2.2 key fetching, on the real stack (gateway, consumers, PostgreSQL, Kafka): an identity
 * provider's keys are fetched like every other outbound call, and a hostile or broken key source
 * of one connection neither reaches inside the network nor holds up another connection's logout.
 */
describe('hostile traffic: key fetching', () => {
  let idp: FakeIdp;
  let trap: ConnectionTrap;

  beforeAll(async () => {
    idp = await FakeIdp.start();
    trap = await startConnectionTrap();
  });
  afterAll(async () => {
    await trap.close();
    await idp.close();
  });

  async function revoke(p: RunningPipeline, connection: string, token: string, subId: Record<string, string>) {
    const started = Date.now();
    const res = await fetch(`${p.gw.baseUrl}/oauth/global-token-revocation/connection/${connection}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub_id: subId }),
    });
    const text = await res.text();
    const body = text ? (JSON.parse(text) as { error_description?: string }) : {};
    return { status: res.status, description: body.error_description, elapsedMs: Date.now() - started };
  }

  async function expectRevoked(p: RunningPipeline, user: Awaited<ReturnType<typeof seedUser>>) {
    const path = encodeURIComponent(user.userId);
    await pollUntil(
      async () => [
        (await p.gw.api('GET', `/api/v2/users/${path}/sessions`)).body.sessions.length,
        (await p.gw.api('GET', `/api/v2/users/${path}/refresh-tokens`)).body.tokens.length,
      ],
      ([sessions, tokens]) => sessions === 0 && tokens === 0,
      { what: 'the user to be logged out everywhere' },
    );
  }

  describe('production mode: discovery naming a jwks_uri at http:, an IP literal, a private address', () => {
    let p: RunningPipeline;
    const discovery = new Map<string, string>();

    beforeAll(async () => {
      p = await startPipeline({
        PUBLIC_BASE_URL: BASE,
        ALLOW_PRIVATE_NETWORK_URLS: 'false',
        OUTBOUND_TIMEOUT_MS: String(OUTBOUND_TIMEOUT_MS),
      });
      // No public https issuer is reachable from a test: the discovery answer of issuers on public
      // names is given at the client; checking and fetching the jwks_uri it names run for real.
      const original = SafeHttpClient.prototype.getJson;
      jest.spyOn(SafeHttpClient.prototype, 'getJson').mockImplementation(async function (this: SafeHttpClient, url, options) {
        const jwksUri = discovery.get(url);
        if (jwksUri !== undefined) return { issuer: url.replace('/.well-known/openid-configuration', ''), jwks_uri: jwksUri };
        return original.call(this, url, options);
      });
    });
    afterAll(async () => {
      jest.restoreAllMocks();
      await p.close();
    });

    it('refuses each before any connection with the one 401, while a real logout goes through', async () => {
      // The real one: a SAML connection, keys from its signing certificate (nothing to fetch).
      const saml = samlSigningMaterial();
      const samlIss = 'http://www.okta.com/exk1saml';
      const samlSub = `${BASE}/sp`;
      const created = await p.gw.api('POST', '/api/v2/connections', {
        name: 'acme-saml',
        strategy: 'samlp',
        options: { signingCert: saml.certificateBase64Der, global_token_revocation_jwt_iss: samlIss, global_token_revocation_jwt_sub: samlSub },
      });
      expect(created.status).toBe(201);
      const ann = await seedUser(p.gw.dataSource, { connection: 'acme-saml', issuer: samlIss, sub: 'ann@acme.test', sessions: 2, refreshTokens: 2 });

      const hostile: { name: string; jwksUri: string; issuer: string }[] = [];
      for (const jwksUri of [
        `http://127.0.0.1:${trap.port}/keys`,
        `https://127.0.0.1:${trap.port}/keys`,
        `https://[::ffff:127.0.0.1]:${trap.port}/keys`,
        'https://169.254.169.254/latest/meta-data/keys',
        'https://10.0.0.1/keys',
        'https://192.168.1.1/keys',
      ]) {
        const issuer = `https://idp-${randomUUID().slice(0, 8)}.example.com`;
        discovery.set(`${issuer}/.well-known/openid-configuration`, jwksUri);
        const name = `hostile-${hostile.length}`;
        expect((await p.gw.api('POST', '/api/v2/connections', { name, strategy: 'okta', options: { issuer, client_id: idp.clientId } })).status).toBe(201);
        hostile.push({ name, jwksUri, issuer });
      }

      const samlToken = await idp.sign({ audience: audienceOf('acme-saml'), key: saml.key, omitKid: true, claims: { iss: samlIss, sub: samlSub } });
      const answers = await Promise.all([
        ...hostile.slice(0, 3).map(async (h) =>
          revoke(p, h.name, await idp.sign({ audience: audienceOf(h.name), claims: { iss: h.issuer } }), { format: 'email', email: 'ann@acme.test' }),
        ),
        revoke(p, 'acme-saml', samlToken, { format: 'iss_sub', iss: samlIss, sub: 'ann@acme.test' }),
        ...hostile.slice(3).map(async (h) =>
          revoke(p, h.name, await idp.sign({ audience: audienceOf(h.name), claims: { iss: h.issuer } }), { format: 'email', email: 'ann@acme.test' }),
        ),
      ]);
      const real = answers.splice(3, 1)[0];

      expect(real.status).toBe(204);
      for (const a of answers) {
        expect({ status: a.status, description: a.description }).toEqual({ status: 401, description: KEYS_UNAVAILABLE });
        expect(a.elapsedMs).toBeLessThan(OUTBOUND_TIMEOUT_MS);
      }
      expect(trap.connections).toBe(0);
      await expectRevoked(p, ann);
      const requests = await p.gw.dataSource.query(`SELECT connection_name, user_ids FROM logout_requests`);
      expect(requests).toEqual([{ connection_name: 'acme-saml', user_ids: [ann.userId] }]);
    });
  });

  describe('a key server that sends headers, then one byte every 2 s', () => {
    let p: RunningPipeline;
    let keys: KeyServer;

    beforeAll(async () => {
      keys = await KeyServer.start();
      p = await startPipeline({ PUBLIC_BASE_URL: BASE, OUTBOUND_TIMEOUT_MS: String(OUTBOUND_TIMEOUT_MS) });
    });
    afterAll(async () => {
      await p.close();
      await keys.close();
    });

    it('holds up only its own connection, each request for at most OUTBOUND_TIMEOUT_MS, and the log says nothing of where', async () => {
      expect(
        (await p.gw.api('POST', '/api/v2/connections', { name: 'acme-okta', strategy: 'okta', options: { issuer: idp.issuer, client_id: idp.clientId } }))
          .status,
      ).toBe(201);
      const slowIssuer = keys.issuer('slow', keys.route('/slow/keys', keys.trickle(2000)));
      expect(
        (await p.gw.api('POST', '/api/v2/connections', { name: 'slow', strategy: 'okta', options: { issuer: slowIssuer, client_id: idp.clientId } }))
          .status,
      ).toBe(201);
      const bob = await seedUser(p.gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub: '00uBob', sessions: 2, refreshTokens: 2 });

      const slowToken = () => idp.sign({ audience: audienceOf('slow'), claims: { iss: slowIssuer } });
      const slow = Promise.all(
        Array.from({ length: 5 }, async () => revoke(p, 'slow', await slowToken(), { format: 'iss_sub', iss: slowIssuer, sub: '00uBob' })),
      );
      // Sent while the slow connection's key fetch hangs.
      const real = await revoke(p, 'acme-okta', await idp.sign({ audience: audienceOf('acme-okta') }), {
        format: 'iss_sub',
        iss: idp.issuer,
        sub: '00uBob',
      });
      expect(real.status).toBe(204);
      expect(real.elapsedMs).toBeLessThan(OUTBOUND_TIMEOUT_MS);

      for (const a of await slow) {
        expect({ status: a.status, description: a.description }).toEqual({ status: 401, description: KEYS_UNAVAILABLE });
        expect(a.elapsedMs).toBeLessThan(OUTBOUND_TIMEOUT_MS + 1500);
      }
      await expectRevoked(p, bob);

      // The rejection is logged for people with the caller's description; the key server's address
      // stays in our process log.
      const rows: { data: Record<string, unknown> }[] = await pollUntil(
        () => p.gw.dataSource.query(`SELECT data FROM log_events WHERE type = 'universal_logout_failed' AND data->>'connection' = 'slow'`),
        (r) => r.length > 0,
        { what: "the slow connection's rejection in the log" },
      );
      expect(rows[0].data).toMatchObject({ description: KEYS_UNAVAILABLE });
      const rejections = JSON.stringify(
        await p.gw.dataSource.query(`SELECT data FROM log_events WHERE type = 'universal_logout_failed'`),
      );
      expect(rejections).not.toContain(keys.base);
      expect(rejections).not.toMatch(/timed out|\/slow\/keys/);
    });
  });
});
