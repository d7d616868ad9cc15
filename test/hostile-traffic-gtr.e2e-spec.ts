import { Agent, request } from 'node:http';
import { generateKeyPair } from 'jose';
import { DataSource } from 'typeorm';
import { FakeIdp, pollUntil } from '@ulo/testing';
import { seedUser } from '../apps/gateway/test/revocation.fixtures';
import { RunningPipeline, startPipeline } from './support/pipeline';

/**
 * SPEC §2 "Hostile traffic", the revocation endpoint against a real stack (gateway, logout consumers, PostgreSQL,
 * Kafka on loopback): hostile input answers a clear 4xx and changes nothing; a verified token is
 * good for one request whatever the answer; a flood of junk neither keeps a valid logout out nor
 * writes a log row per junk request.
 */
describe('hostile traffic at the revocation endpoint (SPEC §2)', () => {
  const base = 'https://logout.example.com';
  const audienceOf = (name: string) => `${base}/oauth/global-token-revocation/connection/${name}`;
  let p: RunningPipeline;
  let idp: FakeIdp;
  let ann: Awaited<ReturnType<typeof seedUser>>;
  const agents = new Map<string, Agent>();

  beforeAll(async () => {
    idp = await FakeIdp.start();
    p = await startPipeline({ PUBLIC_BASE_URL: base, GTR_REJECTION_LOG_INTERVAL_SECONDS: '1' });
    for (const name of ['acme', 'flood']) {
      const created = await p.gw.api('POST', '/api/v2/connections', {
        name,
        strategy: 'okta',
        options: { issuer: idp.issuer, client_id: idp.clientId },
      });
      expect(created.status).toBe(201);
    }
    ann = await seedUser(p.gw.dataSource, { connection: 'acme', issuer: idp.issuer, sub: '00uAnn', sessions: 2, refreshTokens: 2 });
  });
  afterAll(async () => {
    for (const agent of agents.values()) agent.destroy();
    await p.close();
    await idp.close();
  });

  interface Answer {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: any;
  }

  /** A raw POST (any path, any header bytes), from a chosen loopback address. */
  function post(path: string, opts: { headers?: Record<string, string>; body?: string; from?: string } = {}): Promise<Answer> {
    const from = opts.from ?? '127.0.0.1';
    let agent = agents.get(from);
    if (!agent) {
      agent = new Agent({ keepAlive: true, maxSockets: 8, localAddress: from });
      agents.set(from, agent);
    }
    const url = new URL(p.gw.baseUrl);
    const body = Buffer.from(opts.body ?? '', 'utf8');
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...opts.headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              /* not JSON: keep the text */
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
  const endpoint = (name: string) => `/oauth/global-token-revocation/connection/${name}`;
  const revoke = (name: string, token: string | null, body: unknown, from?: string) =>
    post(endpoint(name), {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      body: typeof body === 'string' ? body : JSON.stringify(body),
      from,
    });
  const annBody = () => ({ sub_id: { format: 'iss_sub', iss: idp.issuer, sub: '00uAnn' } });

  /** What a revocation changes (SPEC §2: a rejected request changes none of it). */
  async function state(ds: DataSource) {
    const [row] = await ds.query(`
      SELECT (SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL)::int AS revoked_sessions,
             (SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NOT NULL)::int AS revoked_refresh_tokens,
             (SELECT count(*) FROM logout_requests)::int AS logout_requests,
             (SELECT count(*) FROM outbox WHERE topic LIKE '%logout-requested%')::int AS outbox_logout_requested`);
    return row as Record<string, number>;
  }

  /** A token signed with the IdP's real key, with a hand-made header (jose would refuse some of them). */
  async function signedWithHeader(header: Record<string, unknown>, name = 'acme'): Promise<string> {
    const real = await idp.sign({ audience: audienceOf(name) });
    const [, payload] = real.split('.');
    // The signature does not match the changed header: these are refused by the header rules first.
    return `${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'global-token-revocation+jwt', kid: idp.currentKey.kid, ...header })).toString('base64url')}.${payload}.${real.split('.')[2]}`;
  }

  describe('each hostile input: a clear 4xx, nothing changed', () => {
    let before: Record<string, number>;
    beforeEach(async () => {
      before = await state(p.gw.dataSource);
    });
    afterEach(async () => {
      expect(await state(p.gw.dataSource)).toEqual(before);
    });

    const prototypeNames = ['constructor', '__proto__', 'toString', 'hasOwnProperty'];

    it.each(prototypeNames)('400 for the subject format "%s"', async (name) => {
      const res = await revoke('acme', await idp.sign({ audience: audienceOf('acme') }), `{"sub_id":{"format":"${name}"}}`);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: `unsupported subject format "${name}"` });
    });

    it.each(prototypeNames)('400 for a subject member named "%s"', async (name) => {
      const res = await revoke('acme', await idp.sign({ audience: audienceOf('acme') }), `{"sub_id":{"format":"opaque","id":"u","${name}":"x"}}`);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: `sub_id has unknown member(s): ${name}` });
    });

    it('400 for an aliases list of more than 20 identifiers', async () => {
      const identifiers = Array.from({ length: 21 }, (_, i) => ({ format: 'opaque', id: `u${i}` }));
      const res = await revoke('acme', await idp.sign({ audience: audienceOf('acme') }), { sub_id: { format: 'aliases', identifiers } });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: 'sub_id.identifiers may hold at most 20 identifiers' });
    });

    it('400 for deep nesting', async () => {
      const deep = `{"sub_id":{"format":"opaque","id":"u"},"x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
      const res = await revoke('acme', await idp.sign({ audience: audienceOf('acme') }), deep);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: 'the request body is nested too deeply' });
    });

    it('400 for NUL in a subject member', async () => {
      const res = await revoke('acme', await idp.sign({ audience: audienceOf('acme') }), { sub_id: { format: 'opaque', id: 'a\u0000b' } });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: 'sub_id.id contains control characters' });
    });

    it.each([
      ['typ with a control character', { typ: 'global-token-revocation+jwt\u0007' }, 'unexpected typ'],
      ['typ with a line break', { typ: 'JWT\r\nX-Injected: yes' }, 'unexpected typ'],
      ['typ with a non-Latin-1 character', { typ: 'global-token-revocation+jwt\u2603' }, 'unexpected typ'],
      ['typ that is not a string', { typ: { toLowerCase: 'x' } }, 'unexpected typ'],
      ['alg with a control character', { alg: 'RS256\u0000' }, 'alg is not allowed'],
      ['alg with a non-Latin-1 character', { alg: 'RS256\u{1F600}' }, 'alg is not allowed'],
      ['alg "constructor"', { alg: 'constructor' }, 'alg is not allowed'],
      ['kid with a control character', { kid: 'k\u001b[31m' }, 'kid is malformed'],
      ['kid with a non-Latin-1 character', { kid: 'k\u0100' }, 'kid is malformed'],
      ['kid that is not a string', { kid: ['k'] }, 'kid is malformed'],
    ])('401 for a JWT header with %s, never echoed into WWW-Authenticate', async (_name, header, description) => {
      const res = await revoke('acme', await signedWithHeader(header), annBody());
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_token', error_description: description });
      const challenge = res.headers['www-authenticate'] as string;
      expect(challenge).toBe(`Bearer error="invalid_token", error_description="${description}"`);
      expect(res.headers['x-injected']).toBeUndefined();
    });

    it.each([
      ['NUL', '%00'],
      ['NUL inside a real name', 'acme%00'],
      ['200 characters', 'a'.repeat(200)],
      ['129 characters', 'a'.repeat(129)],
      ['a slash', 'ac%2Fme'],
      ['a prototype property name', '__proto__'],
    ])('404 for a connection name with %s, without a database query', async (_name, segment) => {
      const ds = p.gw.dataSource;
      const spy = jest.spyOn(ds, 'getRepository');
      try {
        const res = await revoke(segment, await idp.sign({ audience: audienceOf('acme') }), annBody(), '127.0.0.9');
        expect(res.status).toBe(404);
        expect(res.body).toEqual({ error: 'not_found', error_description: 'unknown connection' });
        expect(spy.mock.calls.filter(([target]) => (target as { name?: string }).name === 'ConnectionEntity')).toEqual([]);
      } finally {
        spy.mockRestore();
      }
    });

    it('4xx for a path segment that is not valid percent-encoding', async () => {
      const res = await revoke('%E0%A4%A', null, annBody());
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    });
  });

  it('a valid token answered 404 is used up: replayed with a known subject, it is 401 and Ann keeps her sessions', async () => {
    const before = await state(p.gw.dataSource);
    const token = await idp.sign({ audience: audienceOf('acme') });
    const first = await revoke('acme', token, { sub_id: { format: 'iss_sub', iss: idp.issuer, sub: '00uNobody' } });
    expect(first.status).toBe(404);
    expect(first.body).toEqual({ error: 'not_found', error_description: 'no user matches the subject' });
    const replay = await revoke('acme', token, annBody());
    expect(replay.status).toBe(401);
    expect(replay.body).toEqual({ error: 'invalid_token', error_description: 'jti has already been used' });
    expect(await state(p.gw.dataSource)).toEqual(before);
    const [{ active }] = await p.gw.dataSource.query(
      `SELECT count(*)::int AS active FROM sessions WHERE user_id = $1 AND revoked_at IS NULL`,
      [ann.userId],
    );
    expect(active).toBe(2);
  });

  it('a flood of 2,000 junk requests: the valid logout in the middle is 204 and revokes, the log holds the budget plus aggregates', async () => {
    const victim = await seedUser(p.gw.dataSource, { connection: 'flood', issuer: idp.issuer, sub: '00uVictim', sessions: 3, refreshTokens: 2 });
    const audience = audienceOf('flood');
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await Promise.all(
      Array.from({ length: 20 }, () => idp.sign({ audience, key: { ...idp.currentKey, privateKey } })),
    );
    const victimBody = JSON.stringify({ sub_id: { format: 'iss_sub', iss: idp.issuer, sub: '00uVictim' } });
    // Junk of every kind an outsider can send without the IdP's key.
    const kinds: ((i: number) => { token: string | null; body: string })[] = [
      () => ({ token: null, body: victimBody }),
      () => ({ token: 'not.a.jwt', body: victimBody }),
      (i) => ({ token: forged[i % forged.length], body: victimBody }),
      (i) => ({ token: forged[i % forged.length], body: '{"sub_id":{"format":"constructor"}}' }),
      () => ({ token: null, body: '{"sub_id": ' }),
    ];
    // Half from one address, half from forty: one attacker, and many.
    const junk = Array.from({ length: 2000 }, (_, i) => ({
      ...kinds[i % kinds.length](i),
      from: i % 2 === 0 ? '127.0.0.2' : `127.0.0.${10 + ((i >> 1) % 40)}`,
    }));

    const statuses: number[] = [];
    const valid: { status?: number; ms?: number } = {};
    let next = 0;
    const started = Date.now();
    const worker = async () => {
      while (next < junk.length) {
        const i = next++;
        if (i === junk.length / 2) {
          const t = Date.now();
          const token = await idp.sign({ audience });
          const res = await revoke('flood', token, victimBody, '127.0.0.3');
          Object.assign(valid, { status: res.status, ms: Date.now() - t });
        }
        const j = junk[i];
        statuses.push((await revoke('flood', j.token, j.body, j.from)).status);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    const floodSeconds = (Date.now() - started) / 1000;

    expect(valid).toMatchObject({ status: 204 });
    expect(statuses).toHaveLength(2000);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(new Set(statuses)).toEqual(new Set([400, 401, 429]));
    process.stdout.write(
      `flood: 2000 junk in ${floodSeconds.toFixed(1)} s, ${statuses.filter((s) => s === 429).length} of them 429; ` +
        `the valid logout answered ${valid.status} in ${valid.ms} ms\n`,
    );

    // The consumers revoke the victim's sessions and refresh tokens.
    await pollUntil(
      () =>
        p.gw.dataSource.query(
          `SELECT (SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL)::int AS sessions,
                  (SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL)::int AS tokens`,
          [victim.userId],
        ),
      ([r]: { sessions: number; tokens: number }[]) => r.sessions === 0 && r.tokens === 0,
      { what: "the victim's sessions and refresh tokens to be revoked", timeoutMs: 60_000 },
    );

    // Every junk request is in the log: a few rows within the budget (5 a second), the rest counted
    // into one aggregated event per second (GTR_REJECTION_LOG_INTERVAL_SECONDS=1 here).
    type Row = { data: { details: { aggregated?: { count: number; by_status: Record<string, number> } } } };
    const rows: Row[] = await pollUntil(
      () => p.gw.dataSource.query(`SELECT data FROM log_events WHERE type = 'universal_logout_failed' AND connection = 'flood'`),
      (r: Row[]) => r.reduce((n, row) => n + (row.data.details.aggregated?.count ?? 1), 0) >= 2000,
      { what: 'every junk request logged or counted', timeoutMs: 60_000 },
    );
    const singles = rows.filter((r) => !r.data.details.aggregated);
    const aggregates = rows.filter((r) => r.data.details.aggregated);
    const seconds = Math.ceil(floodSeconds);
    expect(singles.length + aggregates.reduce((n, r) => n + r.data.details.aggregated!.count, 0)).toBe(2000);
    expect(singles.length).toBeLessThanOrEqual(5 * (seconds + 1));
    expect(aggregates.length).toBeLessThanOrEqual(seconds + 2);
    const byStatus: Record<string, number> = {};
    for (const r of aggregates) {
      for (const [status, n] of Object.entries(r.data.details.aggregated!.by_status)) byStatus[status] = (byStatus[status] ?? 0) + n;
    }
    expect(Object.keys(byStatus).sort()).toEqual(['400', '401', '429']);
    process.stdout.write(`flood log: ${singles.length} single rows, ${aggregates.length} aggregated rows ${JSON.stringify(byStatus)}\n`);
  }, 180_000); // ~5 s on an idle machine; the bound is for a shared one
});
