import { SealedFor, decryptSecret } from '@ulo/security';
import { RunningGateway, startGateway } from './gateway.harness';

describe('Management API: log streams (SPEC §5, §6)', () => {
  let gw: RunningGateway;
  const secret = 'Bearer s3cr3t-siem-token';
  const httpBody = (sink: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
    name: 'SIEM',
    type: 'http',
    sink: { httpEndpoint: 'https://siem.example.com/ingest', httpAuthorization: secret, ...sink },
    ...extra,
  });
  /** The Authorization a stored sink holds, opened with the gateway's sealing secret for its stream. */
  const authorizationIn = (id: string, sink: { httpAuthorizationSealed?: string }) =>
    sink.httpAuthorizationSealed === undefined
      ? undefined
      : decryptSecret(sink.httpAuthorizationSealed, gw.config.security.signingKeyEncryptionSecret, SealedFor.logStreamAuthorization(id));
  /** The custom headers a stored sink holds, their values opened. */
  const headersIn = (id: string, sink: { httpCustomHeaders: { header: string; valueSealed: string }[] }) =>
    sink.httpCustomHeaders.map(({ header, valueSealed }) => ({
      header,
      value: decryptSecret(valueSealed, gw.config.security.signingKeyEncryptionSecret, SealedFor.logStreamHeader(id, header)),
    }));
  const sinkInDb = async (id: string) => (await gw.dataSource.query('SELECT sink FROM log_streams WHERE id = $1', [id]))[0].sink;
  const count = async () => (await gw.dataSource.query('SELECT count(*)::int AS n FROM log_streams'))[0].n as number;

  beforeAll(async () => {
    // Production URL rules: https only, no private addresses.
    gw = await startGateway({ ALLOW_PRIVATE_NETWORK_URLS: 'false', KAFKA_TOPIC_PREFIX: 'ulo.' });
  });
  afterAll(async () => gw.close());

  it('refuses a call without a valid token with 401', async () => {
    expect((await gw.api('GET', '/api/v2/log-streams', undefined, null)).status).toBe(401);
    expect((await gw.api('POST', '/api/v2/log-streams', httpBody(), 'wrong')).status).toBe(401);
  });

  it('creates an http stream with the defaults, and never returns its Authorization nor a custom header value', async () => {
    const res = await gw.api('POST', '/api/v2/log-streams', httpBody({ httpCustomHeaders: [{ header: 'X-Tenant', value: 'acme-k3y' }] }));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^lst_[A-Za-z0-9]{16}$/),
      name: 'SIEM',
      type: 'http',
      status: 'active',
      sink: {
        httpEndpoint: 'https://siem.example.com/ingest',
        httpContentType: 'application/json',
        httpContentFormat: 'JSONARRAY',
        httpCustomHeaders: [{ header: 'X-Tenant', value: '[redacted]' }],
      },
      filters: [],
      created_at: expect.any(String),
      updated_at: expect.any(String),
      health: {
        lag: 0,
        last_delivered_log_id: null,
        last_success_at: null,
        delivered: 0,
        consecutive_failures: 0,
        next_attempt_at: null,
        suspended_at: null,
        last_errors: [],
      },
    });
    const fetched = await gw.api('GET', `/api/v2/log-streams/${res.body.id}`);
    expect(fetched.body).toEqual(res.body);
    const listed = await gw.api('GET', '/api/v2/log-streams');
    expect(listed.body.log_streams).toEqual([res.body]);
    for (const body of [res.body, fetched.body, listed.body]) {
      expect(JSON.stringify(body)).not.toContain(secret);
      expect(JSON.stringify(body)).not.toContain('acme-k3y');
      expect(JSON.stringify(body)).not.toContain('Sealed');
    }
    // Kept, to be sent verbatim, and only sealed at rest, each value bound to this stream.
    const sink = await sinkInDb(res.body.id);
    expect(JSON.stringify(sink)).not.toContain(secret);
    expect(JSON.stringify(sink)).not.toContain('acme-k3y');
    expect(sink).not.toHaveProperty('httpAuthorization');
    expect(authorizationIn(res.body.id, sink)).toBe(secret);
    expect(headersIn(res.body.id, sink)).toEqual([{ header: 'X-Tenant', value: 'acme-k3y' }]);
    expect(() => authorizationIn('lst_other', sink)).toThrow(/cannot be decrypted/);
  });

  it('creates a kafka stream with category filters, paused if asked', async () => {
    const res = await gw.api('POST', '/api/v2/log-streams', {
      name: 'downstream',
      type: 'kafka',
      sink: { topic: 'logs.siem.logouts' },
      filters: [
        { type: 'category', name: 'auth.logout.success' },
        { type: 'category', name: 'auth.logout.fail' },
      ],
      status: 'paused',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      type: 'kafka',
      status: 'paused',
      sink: { topic: 'logs.siem.logouts' },
      filters: [
        { type: 'category', name: 'auth.logout.success' },
        { type: 'category', name: 'auth.logout.fail' },
      ],
    });
    const [row] = await gw.dataSource.query('SELECT categories FROM log_streams WHERE id = $1', [res.body.id]);
    expect(row.categories).toEqual(['auth.logout.success', 'auth.logout.fail']);
  });

  it.each([
    [{ type: 'http', sink: { httpEndpoint: 'https://siem.example.com' } }, /name/],
    [{ name: 'x', type: 'syslog', sink: {} }, /type must be one of: http, kafka/],
    [{ name: 'x', type: 'http' }, /sink must be an object/],
    [httpBody({ httpEndpoint: 'http://siem.example.com/ingest' }), /sink.httpEndpoint must use https/],
    [httpBody({ httpEndpoint: 'https://127.0.0.1/ingest' }), /sink.httpEndpoint must not point at a loopback or private network address/],
    [httpBody({ httpEndpoint: 'https://192.168.1.10/ingest' }), /private network address/],
    [httpBody({ httpEndpoint: 'https://localhost/ingest' }), /loopback/],
    [httpBody({ httpContentFormat: 'CSV' }), /sink.httpContentFormat must be one of: JSONARRAY, JSONLINES, JSONOBJECT/],
    [httpBody({ httpCustomHeaders: [{ header: 'Content-Type', value: 'text/plain' }] }), /set by the service/],
    [httpBody({ httpAuthorization: 'Bearer x\nX-Injected: 1' }), /must not contain line breaks/],
    [httpBody({ topic: 'x' }), /sink.topic is not a member of an http sink/],
    [{ name: 'k', type: 'kafka', sink: { topic: 'bad topic' } }, /sink.topic must be 1 to 249 letters/],
    [{ name: 'k', type: 'kafka', sink: { topic: 'ulo.log-events' } }, /one of the service's own topics/],
    [{ name: 'k', type: 'kafka', sink: { topic: 'siem.logouts' } }, /sink.topic must start with \\"logs.\\" \(LOG_STREAM_KAFKA_TOPIC_PREFIX\)/],
    [{ name: 'k', type: 'kafka', sink: { topic: 'prod.logout-requested.v1' } }, /must start with \\"logs.\\"/],
    [httpBody({ httpCustomHeaders: [{ header: 'X-Api-Key', value: '[redacted]' }] }), /placeholder GET shows/],
    [{ name: 'k', type: 'kafka', sink: {} }, /sink.topic is required/],
    [httpBody({}, { filters: [{ type: 'category', name: 'auth.login.success' }] }), /filters\[0\].name must be one of/],
    [httpBody({}, { filters: 'auth.logout.fail' }), /filters must be an array/],
    [httpBody({}, { status: 'suspended' }), /status must be one of: active, paused/],
    [httpBody({}, { color: 'blue' }), /property color should not exist/],
  ])('answers 400 with a clear message to %j, and creates nothing', async (body, message) => {
    const before = await count();
    const res = await gw.api('POST', '/api/v2/log-streams', body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.anything() });
    expect(JSON.stringify(res.body.message)).toMatch(message);
    expect(await count()).toBe(before);
  });

  it('answers 404 for an unknown id on GET, PATCH and DELETE', async () => {
    expect((await gw.api('GET', '/api/v2/log-streams/lst_unknown')).status).toBe(404);
    expect((await gw.api('PATCH', '/api/v2/log-streams/lst_unknown', { status: 'paused' })).status).toBe(404);
    expect((await gw.api('DELETE', '/api/v2/log-streams/lst_unknown')).status).toBe(404);
  });

  it('patches the sink member by member, keeping the Authorization unless replaced or removed', async () => {
    const { body: created } = await gw.api('POST', '/api/v2/log-streams', httpBody());
    const path = `/api/v2/log-streams/${created.id}`;

    const patched = await gw.api('PATCH', path, { name: 'SIEM (lines)', sink: { httpContentFormat: 'JSONLINES' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'SIEM (lines)', sink: { httpEndpoint: 'https://siem.example.com/ingest', httpContentFormat: 'JSONLINES' } });
    expect(authorizationIn(created.id, await sinkInDb(created.id))).toBe(secret);

    expect((await gw.api('PATCH', path, { sink: { httpAuthorization: 'Basic bmV3' } })).status).toBe(200);
    expect(authorizationIn(created.id, await sinkInDb(created.id))).toBe('Basic bmV3');
    expect((await gw.api('PATCH', path, { sink: { httpAuthorization: null } })).status).toBe(200);
    expect(await sinkInDb(created.id)).not.toHaveProperty('httpAuthorization');
    expect(await sinkInDb(created.id)).not.toHaveProperty('httpAuthorizationSealed');

    const bad = await gw.api('PATCH', path, { sink: { httpEndpoint: 'http://siem.example.com' } });
    expect(bad.status).toBe(400);
    expect((await sinkInDb(created.id)).httpEndpoint).toBe('https://siem.example.com/ingest');
    // The type stays: a kafka member does not belong to an http sink.
    expect((await gw.api('PATCH', path, { sink: { topic: 'x' } })).status).toBe(400);
    expect((await gw.api('PATCH', path, { type: 'kafka' })).status).toBe(400);
  });

  describe('secrets stay put (SPEC §6): a new endpoint needs the credentials again', () => {
    const headers = [
      { header: 'X-Api-Key', value: 'k-123' },
      { header: 'X-Tenant', value: 'acme' },
    ];
    const create = async () => (await gw.api('POST', '/api/v2/log-streams', httpBody({ httpCustomHeaders: headers }))).body as { id: string };

    it.each([
      [{ httpEndpoint: 'https://attacker.example.com/in' }, /give sink.httpAuthorization \(null removes it\) and sink.httpCustomHeaders with their values/],
      [{ httpEndpoint: 'https://attacker.example.com/in', httpAuthorization: 'Bearer mine' }, /give sink.httpCustomHeaders with their values \(\[\] removes them\) again/],
      [{ httpEndpoint: 'https://attacker.example.com/in', httpCustomHeaders: [] }, /give sink.httpAuthorization \(null removes it\) again/],
      [{ httpEndpoint: 'https://attacker.example.com/in', httpContentFormat: 'JSONLINES' }, /changing sink.httpEndpoint sends the stream's credentials elsewhere/],
    ])('refuses %j with 400 and changes nothing', async (change, message) => {
      const { id } = await create();
      const before = await sinkInDb(id);
      const res = await gw.api('PATCH', `/api/v2/log-streams/${id}`, { name: 'renamed', sink: change });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(message) });
      expect(await sinkInDb(id)).toEqual(before);
      expect((await gw.api('GET', `/api/v2/log-streams/${id}`)).body.name).toBe('SIEM');
    });

    it('moves the stream when every secret is given again, sealed anew for it', async () => {
      const { id } = await create();
      const res = await gw.api('PATCH', `/api/v2/log-streams/${id}`, {
        sink: { httpEndpoint: 'https://siem2.example.com/in', httpAuthorization: 'Bearer new', httpCustomHeaders: [{ header: 'X-Api-Key', value: 'k-456' }] },
      });
      expect(res.status).toBe(200);
      expect(res.body.sink).toEqual({
        httpEndpoint: 'https://siem2.example.com/in',
        httpContentType: 'application/json',
        httpContentFormat: 'JSONARRAY',
        httpCustomHeaders: [{ header: 'X-Api-Key', value: '[redacted]' }],
      });
      const sink = await sinkInDb(id);
      expect(authorizationIn(id, sink)).toBe('Bearer new');
      expect(headersIn(id, sink)).toEqual([{ header: 'X-Api-Key', value: 'k-456' }]);
    });

    it('moves the stream with its secrets removed when asked (null, [])', async () => {
      const { id } = await create();
      const res = await gw.api('PATCH', `/api/v2/log-streams/${id}`, {
        sink: { httpEndpoint: 'https://siem2.example.com/in', httpAuthorization: null, httpCustomHeaders: [] },
      });
      expect(res.status).toBe(200);
      const sink = await sinkInDb(id);
      expect(sink).not.toHaveProperty('httpAuthorizationSealed');
      expect(sink.httpCustomHeaders).toEqual([]);
      expect(sink.httpEndpoint).toBe('https://siem2.example.com/in');
    });

    it('keeps the secrets through changes that do not move the stream, the same endpoint given again included', async () => {
      const { id } = await create();
      const before = await sinkInDb(id);
      const res = await gw.api('PATCH', `/api/v2/log-streams/${id}`, {
        sink: { httpEndpoint: 'https://siem.example.com/ingest', httpContentFormat: 'JSONOBJECT', httpContentType: 'application/x-ndjson' },
      });
      expect(res.status).toBe(200);
      const sink = await sinkInDb(id);
      expect(sink.httpAuthorizationSealed).toBe(before.httpAuthorizationSealed);
      expect(sink.httpCustomHeaders).toEqual(before.httpCustomHeaders);
      expect(sink).toMatchObject({ httpContentFormat: 'JSONOBJECT', httpContentType: 'application/x-ndjson' });

      // New header values alone replace the headers; the Authorization stays.
      expect((await gw.api('PATCH', `/api/v2/log-streams/${id}`, { sink: { httpCustomHeaders: [{ header: 'X-Only', value: 'one' }] } })).status).toBe(200);
      expect(headersIn(id, await sinkInDb(id))).toEqual([{ header: 'X-Only', value: 'one' }]);
      expect(authorizationIn(id, await sinkInDb(id))).toBe(secret);
    });

    it('lets a stream without secrets move freely', async () => {
      const { body } = await gw.api('POST', '/api/v2/log-streams', { name: 'open', type: 'http', sink: { httpEndpoint: 'https://siem.example.com/open' } });
      const res = await gw.api('PATCH', `/api/v2/log-streams/${body.id}`, { sink: { httpEndpoint: 'https://siem2.example.com/open' } });
      expect(res.status).toBe(200);
      expect(res.body.sink.httpEndpoint).toBe('https://siem2.example.com/open');
    });

    it('seals, when the sink is next changed, the values a version before sealing kept in the clear', async () => {
      const { id } = await create();
      await gw.dataSource.query(
        `UPDATE log_streams SET sink = sink - 'httpAuthorizationSealed' || '{"httpAuthorization": "Bearer clear", "httpCustomHeaders": [{"header": "X-Old", "value": "clear-v"}]}'::jsonb WHERE id = $1`,
        [id],
      );
      const shown = await gw.api('GET', `/api/v2/log-streams/${id}`);
      expect(shown.body.sink.httpCustomHeaders).toEqual([{ header: 'X-Old', value: '[redacted]' }]);
      expect(JSON.stringify(shown.body)).not.toMatch(/clear-v|Bearer clear/);
      expect((await gw.api('PATCH', `/api/v2/log-streams/${id}`, { sink: { httpContentFormat: 'JSONLINES' } })).status).toBe(200);
      const sink = await sinkInDb(id);
      expect(JSON.stringify(sink)).not.toMatch(/clear-v|Bearer clear/);
      expect(authorizationIn(id, sink)).toBe('Bearer clear');
      expect(headersIn(id, sink)).toEqual([{ header: 'X-Old', value: 'clear-v' }]);
    });

    it("checks a kafka stream's new topic against the stream prefix", async () => {
      const { body } = await gw.api('POST', '/api/v2/log-streams', { name: 'k', type: 'kafka', sink: { topic: 'logs.one' } });
      const outside = await gw.api('PATCH', `/api/v2/log-streams/${body.id}`, { sink: { topic: 'ulo.logout-requested.v1' } });
      expect(outside.status).toBe(400);
      expect(outside.body.message).toMatch(/one of the service's own topics/);
      expect((await gw.api('PATCH', `/api/v2/log-streams/${body.id}`, { sink: { topic: 'elsewhere.two' } })).status).toBe(400);
      const moved = await gw.api('PATCH', `/api/v2/log-streams/${body.id}`, { sink: { topic: 'logs.two' } });
      expect(moved.status).toBe(200);
      expect(moved.body.sink).toEqual({ topic: 'logs.two' });
    });
  });

  it('pauses, and reactivates a suspended stream with a fresh failure count', async () => {
    const { body: created } = await gw.api('POST', '/api/v2/log-streams', httpBody());
    const path = `/api/v2/log-streams/${created.id}`;
    expect((await gw.api('PATCH', path, { status: 'paused' })).body.status).toBe('paused');

    // As the log-streamer leaves a stream that kept failing:
    await gw.dataSource.query(
      `UPDATE log_streams SET status = 'suspended', consecutive_failures = 20, suspended_at = now(),
         next_attempt_at = now() + interval '5 minutes',
         last_errors = '[{"at": "2026-01-01T00:00:00Z", "error": "POST https://siem.example.com/ingest answered 503"}]'
       WHERE id = $1`,
      [created.id],
    );
    const suspended = await gw.api('GET', path);
    expect(suspended.body).toMatchObject({
      status: 'suspended',
      health: { consecutive_failures: 20, suspended_at: expect.any(String), last_errors: [{ error: expect.stringMatching(/503/) }] },
    });
    expect((await gw.api('PATCH', path, { status: 'suspended' })).status).toBe(400);

    const resumed = await gw.api('PATCH', path, { status: 'active' });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ status: 'active', health: { consecutive_failures: 0, suspended_at: null } });
    // The errors stay visible; the next attempt is due at once.
    expect(resumed.body.health.last_errors).toHaveLength(1);
    const [row] = await gw.dataSource.query('SELECT next_attempt_at <= now() AS due FROM log_streams WHERE id = $1', [created.id]);
    expect(row.due).toBe(true);
  });

  it('shows the lag (events queued, not delivered) and deletes the stream with its queue', async () => {
    const { body: created } = await gw.api('POST', '/api/v2/log-streams', httpBody());
    await gw.dataSource.query(
      `INSERT INTO log_stream_queue (stream_id, log_id) SELECT $1, 'LOG' || g FROM generate_series(1, 42) g`,
      [created.id],
    );
    expect((await gw.api('GET', `/api/v2/log-streams/${created.id}`)).body.health.lag).toBe(42);
    expect((await gw.api('DELETE', `/api/v2/log-streams/${created.id}`)).status).toBe(204);
    expect((await gw.api('GET', `/api/v2/log-streams/${created.id}`)).status).toBe(404);
    expect((await gw.dataSource.query('SELECT count(*)::int AS n FROM log_stream_queue WHERE stream_id = $1', [created.id]))[0].n).toBe(0);
  });

  it('pages with from/take', async () => {
    await gw.dataSource.query('DELETE FROM log_streams');
    for (let i = 0; i < 5; i++) await gw.api('POST', '/api/v2/log-streams', httpBody({}, { name: `s${i}` }));
    const seen: string[] = [];
    let from: string | undefined;
    do {
      const page = await gw.api('GET', `/api/v2/log-streams?take=2${from ? `&from=${from}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.log_streams.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.log_streams.map((s: { id: string }) => s.id));
      from = page.body.next;
    } while (from);
    expect(seen).toHaveLength(5);
    expect([...seen].sort()).toEqual(seen);
    expect((await gw.api('GET', '/api/v2/log-streams?take=101')).status).toBe(400);
  });
});
