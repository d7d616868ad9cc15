import { FakeIdp, pollUntil } from '@ulo/testing';
import { RunningPipeline, startPipeline } from './support/pipeline';

type Identity = { connection: string; provider_user_id: string; issuer: string };

/**
 * Hostile traffic, identities (SPEC §2 subject formats): a connection that reuses a deleted one's
 * name, trusting another IdP, logs out none of the old users; email subjects compare a normalised
 * form that case, Unicode forms and IDN spellings cannot split or join by accident.
 */
describe('Hostile traffic: identities and email subjects', () => {
  let p: RunningPipeline;
  let oldIdp: FakeIdp;
  let newIdp: FakeIdp;
  const base = 'https://logout.example.com';
  let usersCreated = 0;

  const revoke = async (idp: FakeIdp, connection: string, subId: unknown) => {
    const path = `/oauth/global-token-revocation/connection/${connection}`;
    const token = await idp.sign({ audience: `${base}${path}` });
    const res = await fetch(`${p.gw.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub_id: subId }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as { error: string; error_description: string }) : undefined };
  };
  const createConnection = async (name: string, idp: FakeIdp) => {
    const res = await p.gw.api('POST', '/api/v2/connections', {
      name,
      strategy: 'okta',
      options: { issuer: idp.issuer, client_id: idp.clientId },
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  /** A user through the Management API, with two active sessions. */
  const createUser = async (email: string, identities: Identity[]) => {
    const userId = `auth0|identities-${++usersCreated}`;
    const res = await p.gw.api('POST', '/api/v2/users', { user_id: userId, email, identities });
    expect(res.status).toBe(201);
    for (let i = 0; i < 2; i++) {
      expect((await p.gw.api('POST', '/api/v2/sessions', { user_id: userId, clients: [{ client_id: 'app' }] })).status).toBe(201);
    }
    return userId;
  };
  const activeSessions = async (userId: string): Promise<number> =>
    (await p.gw.api('GET', `/api/v2/users/${encodeURIComponent(userId)}/sessions`)).body.sessions.length;
  /** The users of each logout request accepted since the test began (requests are kept: consumers still read them). */
  let earlierRequests: string[] = [];
  const requestedUsers = async (): Promise<string[][]> =>
    (
      await p.gw.dataSource.query(`SELECT user_ids FROM logout_requests WHERE id <> ALL ($1::text[]) ORDER BY created_at`, [
        earlierRequests,
      ])
    ).map((r: { user_ids: string[] }) => r.user_ids);

  beforeAll(async () => {
    oldIdp = await FakeIdp.start();
    newIdp = await FakeIdp.start();
    p = await startPipeline({ PUBLIC_BASE_URL: base });
    await createConnection('mail', newIdp);
    await createConnection('elsewhere', newIdp);
  });
  afterAll(async () => {
    await p.close();
    await oldIdp.close();
    await newIdp.close();
  });
  beforeEach(async () => {
    earlierRequests = (await p.gw.dataSource.query(`SELECT id FROM logout_requests`)).map((r: { id: string }) => r.id);
  });

  describe('a connection deleted and created again with the same name and another IdP', () => {
    let ann: string;
    let bob: string;
    const annAtOld = () => ({ connection: 'acme-okta', provider_user_id: '00uAnn', issuer: oldIdp.issuer });
    const annElsewhere = { connection: 'elsewhere', provider_user_id: 'ann', issuer: 'urn:elsewhere' };

    beforeAll(async () => {
      const oldId = await createConnection('acme-okta', oldIdp);
      ann = await createUser('ann@example.com', [annAtOld(), annElsewhere]);
      bob = await createUser('bob@example.com', [{ connection: 'acme-okta', provider_user_id: '00uBob', issuer: oldIdp.issuer }]);
      expect((await p.gw.api('GET', `/api/v2/users/${encodeURIComponent(ann)}`)).body.identities).toEqual([annAtOld(), annElsewhere]);

      expect((await p.gw.api('DELETE', `/api/v2/connections/${oldId}`)).status).toBe(204);
      await createConnection('acme-okta', newIdp);
      const carol = await createUser('carol@example.com', [{ connection: 'acme-okta', provider_user_id: '00uCarol', issuer: newIdp.issuer }]);
      // The new connection answers once the gateway's one-second connection cache has let the old one go.
      await pollUntil(
        async () => (await revoke(newIdp, 'acme-okta', { format: 'iss_sub', iss: newIdp.issuer, sub: '00uCarol' })).status,
        (status) => status === 204,
        { timeoutMs: 10000, intervalMs: 200, what: 'the new connection to accept its own user' },
      );
      expect(await requestedUsers()).toEqual([[carol]]);
    });

    it('keeps the users, with the identities they have elsewhere, in the SPEC §6 representation', async () => {
      const annNow = await p.gw.api('GET', `/api/v2/users/${encodeURIComponent(ann)}`);
      expect(annNow.status).toBe(200);
      expect(annNow.body).toMatchObject({ user_id: ann, email: 'ann@example.com', identities: [annElsewhere] });
      expect((await p.gw.api('GET', `/api/v2/users/${encodeURIComponent(bob)}`)).body.identities).toEqual([]);
    });

    it.each([
      ['iss_sub with the old issuer', () => ({ format: 'iss_sub', iss: oldIdp.issuer, sub: '00uAnn' })],
      ['iss_sub with the new issuer and an old sub', () => ({ format: 'iss_sub', iss: newIdp.issuer, sub: '00uAnn' })],
      ['email', () => ({ format: 'email', email: 'ann@example.com' })],
      ['opaque user_id', () => ({ format: 'opaque', id: ann })],
      [
        'aliases of all of them, for bob',
        () => ({
          format: 'aliases',
          identifiers: [
            { format: 'iss_sub', iss: oldIdp.issuer, sub: '00uBob' },
            { format: 'email', email: 'bob@example.com' },
            { format: 'opaque', id: bob },
          ],
        }),
      ],
    ])('finds none of the old users by %s: 404, nothing revoked', async (_name, subject) => {
      const res = await revoke(newIdp, 'acme-okta', subject());
      expect({ status: res.status, error: res.body?.error }).toEqual({ status: 404, error: 'not_found' });
      expect(await requestedUsers()).toEqual([]);
      expect(await activeSessions(ann)).toBe(2);
      expect(await activeSessions(bob)).toBe(2);
    });

    it("refuses the old IdP's token at the new connection: 401", async () => {
      const res = await revoke(oldIdp, 'acme-okta', { format: 'iss_sub', iss: oldIdp.issuer, sub: '00uAnn' });
      expect({ status: res.status, error: res.body?.error }).toEqual({ status: 401, error: 'invalid_token' });
      expect(await activeSessions(ann)).toBe(2);
    });
  });

  describe('email subjects compare the normalised form (NFC, lower case without locale, IDNA domain)', () => {
    it.each([
      ['an IDN domain stored in Unicode, named in punycode', 'Jane@Bücher.example', 'jane@xn--bcher-kva.example'],
      ['an IDN domain stored in punycode, named in Unicode', 'kim@xn--bcher-kva.example', 'Kim@BÜCHER.example'],
      ['a local part stored in NFD, named in NFC upper case', 'Zoe\u0308@example.com', 'ZO\u00cb@EXAMPLE.COM'],
      ['a local part stored in NFC, named in NFD', 'Chlo\u00e9@example.com', 'chloe\u0301@example.com'],
      ['a domain stored in NFD, named in NFC', 'lea@Mu\u0308nchen.example', 'LEA@m\u00fcnchen.example'],
    ])('matches %s (%j ~ %j): 204, sessions revoked', async (_name, stored, named) => {
      const user = await createUser(stored, [{ connection: 'mail', provider_user_id: stored, issuer: newIdp.issuer }]);
      const res = await revoke(newIdp, 'mail', { format: 'email', email: named });
      expect(res.status).toBe(204);
      expect(await requestedUsers()).toEqual([[user]]);
      await pollUntil(() => activeSessions(user), (n) => n === 0, { what: `the sessions of ${stored} to be revoked` });
    });

    it.each([
      ['a Turkish dotted capital I for a plain i (no locale folding)', 'inci@example.com', '\u0130NCI@example.com'],
      ['a dotless small i for a plain i', 'ilker@example.com', '\u0131lker@example.com'],
      ['a percent-encoded domain (never decoded)', 'per@example.com', 'per@ex%61mple.com'],
      ['punycode that does not decode (no 400 either: it simply matches nobody)', 'bad@example.com', 'bad@xn--a.example'],
      ['a trailing dot', 'dot@example.com', 'dot@example.com.'],
    ])('does not match %s: 404, nothing revoked', async (_name, stored, named) => {
      const user = await createUser(stored, [{ connection: 'mail', provider_user_id: `nomatch-${stored}`, issuer: newIdp.issuer }]);
      const res = await revoke(newIdp, 'mail', { format: 'email', email: named });
      expect({ status: res.status, error: res.body?.error }).toEqual({ status: 404, error: 'not_found' });
      expect(await requestedUsers()).toEqual([]);
      expect(await activeSessions(user)).toBe(2);
    });

    it('logs out every user of the connection who shares the email, and nobody at another connection', async () => {
      const first = await createUser('Sam@Example.com', [{ connection: 'mail', provider_user_id: 'sam-1', issuer: newIdp.issuer }]);
      const second = await createUser('sam@EXAMPLE.COM', [{ connection: 'mail', provider_user_id: 'sam-2', issuer: newIdp.issuer }]);
      const elsewhere = await createUser('sam@example.com', [{ connection: 'elsewhere', provider_user_id: 'sam', issuer: 'urn:elsewhere' }]);

      const res = await revoke(newIdp, 'mail', { format: 'email', email: 'SAM@example.com' });
      expect(res.status).toBe(204);
      expect(await requestedUsers()).toEqual([[first, second].sort()]);
      await pollUntil(
        async () => [await activeSessions(first), await activeSessions(second)],
        ([a, b]) => a === 0 && b === 0,
        { what: 'the sessions of both users sharing the email to be revoked' },
      );
      expect(await activeSessions(elsewhere)).toBe(2);
    });

    it.each([
      ['an email with NUL', { format: 'email', email: 'nul\u0000@example.com' }],
      ['an iss_sub with NUL', { format: 'iss_sub', iss: 'urn:x', sub: 'a\u0000b' }],
      ['an opaque id with NUL', { format: 'opaque', id: 'auth0|\u0000' }],
    ])('answers %s with 400, never a 5xx, and changes nothing', async (_name, subject) => {
      const res = await revoke(newIdp, 'mail', subject);
      expect({ status: res.status, error: res.body?.error }).toEqual({ status: 400, error: 'invalid_request' });
      expect(await requestedUsers()).toEqual([]);
    });
  });
});
