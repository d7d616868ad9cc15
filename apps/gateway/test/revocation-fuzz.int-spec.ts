import fc from 'fast-check';
import { Agent, request } from 'node:http';
import { KeyObject, sign } from 'node:crypto';
import { FakeIdp } from '@ulo/testing';
import { RunningGateway, startGateway } from './gateway.harness';
import { seedUser } from './revocation.fixtures';

/**
 * Property-based fuzz test of the revocation endpoint (SPEC §2 "Hostile traffic"): whatever the
 * JWT header, claims, signature, body, path and headers, the gateway answers a 4xx and changes
 * nothing. Fixed seed by default, so CI is repeatable; FUZZ_SEED picks another, FUZZ_RUNS runs
 * longer (README, "Security"). A failure prints the seed and the shrunk request.
 */
const SEED = envInteger('FUZZ_SEED', 20260110);
const RUNS = envInteger('FUZZ_RUNS', 300);

function envInteger(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^-?\d+$/.test(text)) throw new Error(`${name} must be an integer`);
  return Number(text);
}

describe(`revocation endpoint fuzz (seed ${SEED}, ${RUNS} runs)`, () => {
  const base = 'https://logout.example.com';
  const audience = `${base}/oauth/global-token-revocation/connection/acme`;
  let gw: RunningGateway;
  let idp: FakeIdp;
  let agent: Agent;

  beforeAll(async () => {
    idp = await FakeIdp.start();
    // The limits are tested elsewhere; here they would only turn deeper paths into 429s.
    const unlimited = '1000000';
    gw = await startGateway({
      PUBLIC_BASE_URL: base,
      GTR_RATE_LIMIT_PER_SECOND: unlimited,
      GTR_RATE_LIMIT_BURST: unlimited,
      GTR_UNVERIFIED_PER_SOURCE_PER_SECOND: unlimited,
      GTR_UNVERIFIED_PER_SOURCE_BURST: unlimited,
      GTR_UNVERIFIED_PER_SECOND: unlimited,
      GTR_UNVERIFIED_BURST: unlimited,
    });
    const created = await gw.api('POST', '/api/v2/connections', {
      name: 'acme',
      strategy: 'okta',
      options: { issuer: idp.issuer, client_id: idp.clientId },
    });
    expect(created.status).toBe(201);
    // A user no generated subject can name: a 204 would be a bug in the generator or the endpoint.
    await seedUser(gw.dataSource, { connection: 'acme', issuer: idp.issuer, sub: `00u-${Date.now()}-seeded` });
    agent = new Agent({ keepAlive: true, maxSockets: 4 });
  });
  afterAll(async () => {
    agent.destroy();
    await gw.close();
    await idp.close();
  });

  /** What a revocation changes; the replay store is left out (a verified token answered 404 uses up its jti). */
  async function state() {
    const [row] = await gw.dataSource.query(`
      SELECT (SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL)::int AS revoked_sessions,
             (SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NOT NULL)::int AS revoked_refresh_tokens,
             (SELECT count(*) FROM logout_requests)::int AS logout_requests,
             (SELECT count(*) FROM outbox WHERE topic LIKE '%logout-requested%')::int AS outbox_logout_requested`);
    return row as Record<string, number>;
  }

  // ---- arbitraries -------------------------------------------------------------------------
  const prototypeNames = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];
  const hostileText = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.constantFrom(...prototypeNames, '', ' ', '\u0000', 'a\u0000b', '\r\n', '\u2028', '\ud800', '"\\', 'x'.repeat(2000)),
  );
  const hostileJson = fc.oneof(
    { weight: 3, arbitrary: hostileText },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.dictionary(fc.oneof(hostileText, fc.constantFrom(...prototypeNames)), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) },
    { weight: 1, arbitrary: fc.constantFrom(null, true, 0, -1, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 0.5) },
  );
  /** A header value Node can send: no CR, LF or NUL, Latin-1 only. */
  const headerText = fc.string({ unit: 'binary', maxLength: 80 }).map((s) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, ''));
  const secondsFromNow = fc.oneof(fc.integer({ min: -2000, max: 2000 }), fc.constantFrom(-300, 0, 300, 899, 901));

  const header = fc.record(
    {
      typ: fc.oneof(fc.constantFrom('global-token-revocation+jwt', 'JWT', 'application/global-token-revocation+jwt'), hostileJson),
      alg: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('RS256', 'none', 'HS256', 'ES256', 'EdDSA') }, { weight: 1, arbitrary: hostileJson }),
      kid: fc.oneof({ weight: 3, arbitrary: fc.constant('<real>') }, { weight: 1, arbitrary: hostileJson }),
      crit: fc.oneof(fc.constant(['b64']), hostileJson),
      b64: fc.oneof(fc.constant(false), hostileJson),
      jku: fc.oneof(fc.constant('http://169.254.169.254/keys'), hostileText),
    },
    { requiredKeys: ['alg'] },
  );
  const claims = fc.record(
    {
      iss: fc.oneof({ weight: 3, arbitrary: fc.constant('<issuer>') }, { weight: 1, arbitrary: hostileJson }),
      sub: fc.oneof({ weight: 3, arbitrary: fc.constant('<client>') }, { weight: 1, arbitrary: hostileJson }),
      aud: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('<audience>', ['<audience>']) }, { weight: 1, arbitrary: hostileJson }),
      jti: fc.oneof({ weight: 3, arbitrary: fc.uuid() }, { weight: 1, arbitrary: hostileJson }),
      iat: fc.oneof({ weight: 3, arbitrary: secondsFromNow.map((s) => ({ now: s })) }, { weight: 1, arbitrary: hostileJson }),
      nbf: fc.oneof({ weight: 3, arbitrary: secondsFromNow.map((s) => ({ now: s })) }, { weight: 1, arbitrary: hostileJson }),
      exp: fc.oneof({ weight: 3, arbitrary: secondsFromNow.map((s) => ({ now: s })) }, { weight: 1, arbitrary: hostileJson }),
    },
    { requiredKeys: [] },
  );
  const signature = fc.constantFrom('real', 'junk', 'empty');
  /** A token Okta could have sent, with at most one header field or claim replaced (or removed). */
  const nearlyValid = fc
    .record({
      jti: fc.uuid(),
      part: fc.constantFrom('header', 'claims', 'none'),
      headerKey: fc.constantFrom('typ', 'alg', 'kid', 'crit', ...prototypeNames),
      claimKey: fc.constantFrom('iss', 'sub', 'aud', 'jti', 'iat', 'nbf', 'exp', ...prototypeNames),
      value: fc.option(hostileJson, { nil: undefined }),
    })
    .map(({ jti, part, headerKey, claimKey, value }) => {
      const h: Record<string, unknown> = { alg: 'RS256', typ: 'global-token-revocation+jwt', kid: '<real>' };
      const c: Record<string, unknown> = { iss: '<issuer>', sub: '<client>', aud: '<audience>', jti, iat: { now: 0 }, nbf: { now: -300 }, exp: { now: 300 } };
      if (part === 'header') Object.defineProperty(h, headerKey, { value, enumerable: true, writable: true, configurable: true });
      if (part === 'claims') Object.defineProperty(c, claimKey, { value, enumerable: true, writable: true, configurable: true });
      return { header: h, claims: c, signature: 'real', extraDots: false };
    });
  const token = fc.oneof(nearlyValid, fc.record({ header, claims, signature, extraDots: fc.boolean() }));

  const identifier = fc.oneof(
    fc.record({ format: fc.constant('iss_sub'), iss: fc.oneof(fc.constant('<issuer>'), hostileJson), sub: hostileJson }, { requiredKeys: ['format'] }),
    fc.record({ format: fc.constant('email'), email: hostileJson }, { requiredKeys: ['format'] }),
    fc.record({ format: fc.constant('opaque'), id: hostileJson }, { requiredKeys: ['format'] }),
    fc.record({ format: fc.oneof(hostileText, fc.constantFrom(...prototypeNames)), id: hostileJson }, { requiredKeys: [] }),
    fc.dictionary(fc.constantFrom('format', 'id', 'email', ...prototypeNames), hostileJson, { maxKeys: 4 }),
  );
  const subject = fc.oneof(
    identifier,
    fc.record({ format: fc.constant('aliases'), identifiers: fc.array(identifier, { maxLength: 25 }) }),
    fc.record({ format: fc.constant('aliases'), identifiers: hostileJson }),
  );
  /** Well-formed subjects that name nobody: requests that get as far as the token. */
  const plainText = fc.string({ minLength: 1, maxLength: 40 }).filter((t) => t.trim().length > 0 && !/[\u0000-\u001f\u007f-\u009f]/.test(t));
  const wellFormed = fc.oneof(
    fc.record({ format: fc.constant('iss_sub'), iss: fc.constant('<issuer>'), sub: plainText }),
    fc.record({ format: fc.constant('email'), email: fc.emailAddress() }),
    fc.record({ format: fc.constant('opaque'), id: plainText }),
  );
  const wellFormedSubject = fc.oneof(
    { weight: 3, arbitrary: wellFormed },
    { weight: 1, arbitrary: fc.record({ format: fc.constant('aliases'), identifiers: fc.array(wellFormed, { minLength: 1, maxLength: 20 }) }) },
  );
  const body = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.constantFrom('sub_id', 'subject'), wellFormedSubject).map(([key, v]) => JSON.stringify({ [key]: resolve(v) })) },
    { weight: 4, arbitrary: fc.record({ sub_id: subject, subject: subject, extra: hostileJson }, { requiredKeys: [] }).map((b) => JSON.stringify(resolve(b))) },
    { weight: 1, arbitrary: hostileJson.map((v) => JSON.stringify(v) ?? '') },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 8000 }).map((n) => `{"sub_id":${'['.repeat(n)}${']'.repeat(n)}}`) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`) },
  );
  const connection = fc.oneof(
    { weight: 6, arbitrary: fc.constant('acme') },
    { weight: 1, arbitrary: hostileText.map((t) => encodeURIComponent(t.replace(/[\ud800-\udfff]/g, ''))) },
    { weight: 1, arbitrary: fc.constantFrom('%00', 'acme%00', '%', '%E0%A4%A', '%ZZ', 'a'.repeat(300), '..', '%2e%2e', 'acme%2F..', '__proto__') },
  );
  const request_ = fc.record({
    connection,
    token,
    authorization: fc.oneof(
      { weight: 6, arbitrary: fc.constant('<bearer>') },
      { weight: 1, arbitrary: headerText },
      { weight: 1, arbitrary: headerText.map((t) => `Bearer ${t}`) },
      { weight: 1, arbitrary: fc.constant(undefined) },
    ),
    contentType: fc.oneof(
      { weight: 6, arbitrary: fc.constant('application/json') },
      { weight: 1, arbitrary: fc.constantFrom('application/secevent+json', 'text/plain', 'application/json; charset=utf-16', '', 'APPLICATION/JSON') },
      { weight: 1, arbitrary: headerText },
    ),
    forwardedFor: fc.option(fc.oneof(fc.ipV4(), fc.ipV6(), headerText), { nil: undefined }),
    userAgent: fc.option(headerText, { nil: undefined }),
    body,
  });

  // ---- turning a generated request into bytes ------------------------------------------------
  function resolve(value: unknown): unknown {
    if (value === '<issuer>') return idp.issuer;
    if (value === '<client>') return idp.clientId;
    if (value === '<audience>') return audience;
    if (value === '<real>') return idp.currentKey.kid;
    if (Array.isArray(value)) return value.map(resolve);
    if (value && typeof value === 'object') {
      const entries = Object.entries(value);
      if (entries.length === 1 && entries[0][0] === 'now' && typeof entries[0][1] === 'number') {
        return Math.floor(Date.now() / 1000) + entries[0][1];
      }
      // defineProperty keeps a generated "__proto__" key an own property, as JSON.parse makes it.
      const out = {};
      for (const [k, v] of entries) Object.defineProperty(out, k, { value: resolve(v), enumerable: true, writable: true, configurable: true });
      return out;
    }
    return value;
  }
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

  function jwt(t: { header: Record<string, unknown>; claims: Record<string, unknown>; signature: string; extraDots: boolean }): string {
    const input = `${b64(JSON.stringify(resolve(t.header)))}.${b64(JSON.stringify(resolve(t.claims)))}`;
    const sig =
      t.signature === 'real'
        ? sign('sha256', Buffer.from(input), idp.currentKey.privateKey as KeyObject).toString('base64url')
        : t.signature === 'junk'
          ? b64('junk-signature')
          : '';
    return `${input}.${sig}${t.extraDots ? '.' : ''}`;
  }

  function send(path: string, headers: Record<string, string>, payload: string) {
    const url = new URL(gw.baseUrl);
    const bytes = Buffer.from(payload, 'utf8');
    return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }>((done, fail) => {
      const req = request(
        { host: url.hostname, port: url.port, path, method: 'POST', agent, headers: { ...headers, 'content-length': String(bytes.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', fail);
        },
      );
      req.on('error', fail);
      req.end(bytes);
    });
  }

  it('never answers 5xx, never echoes input into a header, never changes data', async () => {
    const before = await state();
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request_, async (r) => {
        const headers: Record<string, string> = {};
        if (r.authorization !== undefined) headers.authorization = r.authorization === '<bearer>' ? `Bearer ${jwt(r.token)}` : r.authorization;
        if (r.contentType !== '') headers['content-type'] = r.contentType;
        if (r.forwardedFor !== undefined) headers['x-forwarded-for'] = r.forwardedFor;
        if (r.userAgent !== undefined) headers['user-agent'] = r.userAgent;
        const res = await send(`/oauth/global-token-revocation/connection/${r.connection}`, headers, r.body);
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);

        expect([400, 401, 403, 404, 413, 415, 429]).toContain(res.status);
        if (res.status === 401) {
          expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token", error_description="[\x20\x21\x23-\x5b\x5d-\x7e]*"$/);
        }
        const answer = JSON.parse(res.text) as Record<string, unknown>;
        expect(typeof answer.error).toBe('string');
        expect(await state()).toEqual(before);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: false },
    );
    const [{ verified }] = await gw.dataSource.query(`SELECT count(*)::int AS verified FROM seen_jtis`);
    process.stdout.write(
      `revocation fuzz, seed ${SEED}: ${RUNS} runs, statuses ${JSON.stringify(Object.fromEntries([...seen].sort()))}, ` +
        `${verified} verified tokens answered 404\n`,
    );
  });
});
