import { ServerResponse } from 'node:http';
import { FakeSsfTransmitter, pollUntil, type ReceivedRequest } from '@ulo/testing';
import { seedUser } from '../apps/gateway/test/revocation.fixtures';
import { RunningGateway, startGateway } from '../apps/gateway/test/gateway.harness';

const BASE = 'https://logout.example.com';
const AUTH = 'Bearer push-secret-stream-1';
const CLIENT_ID = '0oa-ssf-receiver';
const CLIENT_SECRET = 'a client secret: with % and + in it';
const ACCESS_TOKEN = 'okta-access-token-1';
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const CREDENTIAL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/credential-change';
const STREAM_UPDATED = 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated';
const PUSH = 'urn:ietf:rfc:8935';
const POLL = 'urn:ietf:rfc:8936';
const POLL_PATH = '/api/v1/ssf/stream/poll';
const audienceOf = (name: string) => `${BASE}/ssf/push/connection/${name}`;
const { PATHS } = FakeSsfTransmitter;

const json = (res: ServerResponse, status: number, body?: unknown) => {
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/**
 * SPEC §9, SSF 1.0 §8 end to end, as the receiver: the real gateway manages its stream at a
 * transmitter playing Okta (authorization server metadata, a client credentials token endpoint
 * with client_secret_basic, stream configuration, status and verification endpoints), and the
 * transmitter's pushes about the stream reach the real push endpoint.
 */
describe('Shared Signals stream management (receiver)', () => {
  let gw: RunningGateway;
  let tx: FakeSsfTransmitter;
  let connectionId: string;
  /** The stream the fake holds, as Okta answers it; null when none. */
  let stream: Record<string, any> | null = null;
  let status = 'enabled';
  let streams = 0;

  const streamRequests = () => tx.requests.filter((r) => r.path.startsWith(PATHS.configuration));
  const bodyOf = (r: ReceivedRequest) => JSON.parse(r.body) as Record<string, any>;
  const pushUrl = (name: string) => `${gw.baseUrl}/ssf/push/connection/${name}`;

  /** Okta's stream endpoints answer only the bearer token its token endpoint issued. */
  const authorized = (req: ReceivedRequest, res: ServerResponse) => {
    if (req.headers.authorization === `Bearer ${ACCESS_TOKEN}`) return true;
    json(res, 401, { errorCode: 'E0000011', errorSummary: 'Invalid token provided' });
    return false;
  };

  function playOkta(): void {
    tx.route('GET', '/.well-known/oauth-authorization-server', (_req, res) =>
      json(res, 200, { issuer: tx.issuer, token_endpoint: `${tx.issuer}/oauth2/v1/token`, grant_types_supported: ['client_credentials'] }),
    );
    tx.route('POST', '/oauth2/v1/token', (req, res) => {
      const basic = `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64')}`;
      if (req.headers.authorization !== basic) return json(res, 401, { error: 'invalid_client' });
      json(res, 200, { token_type: 'Bearer', expires_in: 3600, access_token: ACCESS_TOKEN, scope: 'okta.ssf.manage okta.ssf.read' });
    });
    tx.route('POST', PATHS.configuration, (req, res) => {
      if (!authorized(req, res)) return;
      const body = bodyOf(req);
      streams++;
      // RFC 8936 §2: under poll delivery the transmitter names the endpoint.
      const delivery = body.delivery.method === POLL ? { method: POLL, endpoint_url: `${tx.issuer}${POLL_PATH}` } : body.delivery;
      stream = {
        stream_id: `esc1stream${streams}`,
        iss: tx.issuer,
        aud: body.delivery.endpoint_url ?? audienceOf('acme-poll'),
        delivery,
        events_supported: [SESSION_REVOKED, CREDENTIAL_CHANGE],
        events_requested: body.events_requested,
        events_delivered: body.events_requested,
        min_verification_interval: 0,
        format: 'iss_sub',
      };
      json(res, 201, stream);
    });
    tx.route('PATCH', PATHS.configuration, (req, res) => {
      if (!authorized(req, res)) return;
      const body = bodyOf(req);
      if (!stream || body.stream_id !== stream.stream_id) return json(res, 404, { errorCode: 'E0000007', errorSummary: 'Not found' });
      stream = { ...stream, delivery: body.delivery, events_requested: body.events_requested, events_delivered: body.events_requested };
      json(res, 200, stream);
    });
    tx.route('GET', PATHS.configuration, (req, res) => {
      if (!authorized(req, res)) return;
      if (!stream) return json(res, 404, { errorCode: 'E0000007', errorSummary: 'Not found' });
      json(res, 200, stream);
    });
    tx.route('DELETE', PATHS.configuration, (req, res) => {
      if (!authorized(req, res)) return;
      stream = null;
      json(res, 204);
    });
    tx.route('GET', PATHS.status, (req, res) => {
      if (!authorized(req, res)) return;
      json(res, 200, { stream_id: stream?.stream_id, status });
    });
    // SSF 1.0 §8.1.4.2: 204, then the verification event pushed to the stream's endpoint with its Authorization.
    tx.route('POST', PATHS.verification, async (req, res) => {
      if (!authorized(req, res)) return;
      const { stream_id, state } = bodyOf(req);
      json(res, 204);
      const set = await tx.signSet(tx.verification({ audience: audienceOf('acme-okta'), state, streamId: stream_id }));
      await tx.push(pushUrl('acme-okta'), set, { authorization: stream!.delivery.authorization_header });
    });
  }

  async function connection(name: string, ssf: Record<string, unknown>): Promise<string> {
    const res = await gw.api('POST', '/api/v2/connections', { name, strategy: 'okta', options: { ssf: { audience: audienceOf(name), push_authorization: AUTH, ...ssf } } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  beforeAll(async () => {
    tx = await FakeSsfTransmitter.start();
    playOkta();
    gw = await startGateway({ PUBLIC_BASE_URL: BASE, ALLOW_PRIVATE_NETWORK_URLS: 'true', SSF_POLL_INTERVAL_MS: '200' });
    connectionId = await connection('acme-okta', { issuer: tx.issuer, client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
  });
  afterAll(async () => {
    await gw.close();
    await tx.close();
  });

  it('POST …/ssf-stream creates the stream: a client credentials token (client_secret_basic, the SSF scopes), then push delivery to our endpoint with our Authorization and the CAEP events; 201 without the secret', async () => {
    const res = await gw.api('POST', `/api/v2/connections/${connectionId}/ssf-stream`);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      stream_id: 'esc1stream1',
      stream: {
        stream_id: 'esc1stream1',
        iss: tx.issuer,
        aud: `${BASE}/ssf/push/connection/acme-okta`,
        delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: `${BASE}/ssf/push/connection/acme-okta` },
        events_supported: [SESSION_REVOKED, CREDENTIAL_CHANGE],
        events_requested: [SESSION_REVOKED, CREDENTIAL_CHANGE],
        events_delivered: [SESSION_REVOKED, CREDENTIAL_CHANGE],
        min_verification_interval: 0,
        format: 'iss_sub',
      },
      last_status_update: null,
      last_verification: null,
    });

    const [token, create] = tx.requests.filter((r) => r.path === '/oauth2/v1/token' || r.path === PATHS.configuration);
    expect(token.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(token.body))).toEqual({ grant_type: 'client_credentials', scope: 'okta.ssf.manage okta.ssf.read' });
    expect({ method: create.method, authorization: create.headers.authorization, contentType: create.headers['content-type'] }).toEqual({
      method: 'POST',
      authorization: `Bearer ${ACCESS_TOKEN}`,
      contentType: 'application/json',
    });
    expect(bodyOf(create)).toEqual({
      delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: `${BASE}/ssf/push/connection/acme-okta`, authorization_header: AUTH },
      events_requested: [SESSION_REVOKED, CREDENTIAL_CHANGE],
    });
    // The stream id is kept on the connection, shown with its options.
    expect((await gw.api('GET', `/api/v2/connections/${connectionId}`)).body.options.ssf.stream_id).toBe('esc1stream1');
  });

  it('POST …/ssf-stream again updates the stream it has (PATCH with its stream_id): 200', async () => {
    const before = streamRequests().length;
    const res = await gw.api('POST', `/api/v2/connections/${connectionId}/ssf-stream`);
    expect({ status: res.status, stream_id: res.body.stream_id }).toEqual({ status: 200, stream_id: 'esc1stream1' });
    const [update] = streamRequests().slice(before);
    expect({ method: update.method, body: bodyOf(update) }).toEqual({
      method: 'PATCH',
      body: {
        stream_id: 'esc1stream1',
        delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: `${BASE}/ssf/push/connection/acme-okta`, authorization_header: AUTH },
        events_requested: [SESSION_REVOKED, CREDENTIAL_CHANGE],
      },
    });
    expect(streams).toBe(1);
  });

  it('PATCH of the connection with the same issuer keeps the stream id (and the sealed secrets)', async () => {
    const res = await gw.api('PATCH', `/api/v2/connections/${connectionId}`, {
      options: { ssf: { issuer: tx.issuer, audience: audienceOf('acme-okta'), client_id: CLIENT_ID, actions: { 'credential-change': 'log-only' } } },
    });
    expect(res.status).toBe(200);
    expect(res.body.options.ssf).toEqual({
      issuer: tx.issuer,
      audience: audienceOf('acme-okta'),
      push_authorization_set: true,
      client_id: CLIENT_ID,
      client_secret_set: true,
      actions: { 'session-revoked': 'logout', 'credential-change': 'log-only' },
      stream_id: 'esc1stream1',
    });
  });

  it('GET …/ssf-stream shows the stream and its status as the transmitter reports them (stream_id in the query)', async () => {
    const before = tx.requests.length;
    const res = await gw.api('GET', `/api/v2/connections/${connectionId}/ssf-stream`);
    expect(res.status).toBe(200);
    expect({ stream_id: res.body.stream_id, status: res.body.status, delivery: res.body.stream.delivery }).toEqual({
      stream_id: 'esc1stream1',
      status: { status: 'enabled' },
      delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: `${BASE}/ssf/push/connection/acme-okta` },
    });
    const calls = tx.requests.slice(before).filter((r) => r.path.startsWith('/api/'));
    expect(calls.map((r) => `${r.method} ${r.path}?${r.query} ${r.headers.authorization}`)).toEqual([
      `GET ${PATHS.configuration}?stream_id=esc1stream1 Bearer ${ACCESS_TOKEN}`,
      `GET ${PATHS.status}?stream_id=esc1stream1 Bearer ${ACCESS_TOKEN}`,
    ]);
  });

  it('POST …/ssf-stream/verify: the transmitter is asked for a verification event with our state; it pushes it, and GET shows the state received', async () => {
    const res = await gw.api('POST', `/api/v2/connections/${connectionId}/ssf-stream/verify`);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ stream_id: 'esc1stream1', state: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) });
    const asked = tx.requests.filter((r) => r.path === PATHS.verification).at(-1)!;
    expect(bodyOf(asked)).toEqual({ stream_id: 'esc1stream1', state: res.body.state });

    const shown = await pollUntil(
      () => gw.api('GET', `/api/v2/connections/${connectionId}/ssf-stream`),
      (r) => r.status === 200 && r.body.last_verification !== null,
      { what: 'the verification event to be received' },
    );
    expect(shown.body.last_verification).toEqual({ state: res.body.state, received_at: expect.any(String) });
    expect(Date.now() - Date.parse(shown.body.last_verification.received_at)).toBeLessThan(60_000);
  });

  it('a stream-updated event pushed by the transmitter (paused) is accepted and recorded: GET shows it', async () => {
    const claims = {
      iss: tx.issuer,
      jti: 'stream-updated-1',
      iat: Math.floor(Date.now() / 1000),
      aud: audienceOf('acme-okta'),
      sub_id: { format: 'opaque', id: 'esc1stream1' },
      events: { [STREAM_UPDATED]: { status: 'paused', reason: 'paused by an administrator' } },
    };
    const pushed = await tx.push(pushUrl('acme-okta'), await tx.signSet(claims), { authorization: AUTH });
    expect({ status: pushed.status, body: pushed.body }).toEqual({ status: 202, body: undefined });
    status = 'paused';

    const res = await gw.api('GET', `/api/v2/connections/${connectionId}/ssf-stream`);
    expect({ status: res.body.status, last_status_update: res.body.last_status_update }).toEqual({
      status: { status: 'paused' },
      last_status_update: { status: 'paused', reason: 'paused by an administrator', received_at: expect.any(String) },
    });
    const [logged] = await gw.dataSource.query(`SELECT data FROM log_events WHERE type = 'ssf_event_accepted' AND data->'details'->>'jti' = $1`, ['stream-updated-1']);
    expect(logged.data).toMatchObject({
      description: 'SSF stream status changed to paused',
      connection: 'acme-okta',
      details: { event_type: STREAM_UPDATED, jti: 'stream-updated-1', status: 'paused', reason: 'paused by an administrator' },
    });
  });

  it('a stream-updated event with a status SSF does not define is refused: 400 invalid_request', async () => {
    const claims = {
      iss: tx.issuer,
      jti: 'stream-updated-bad',
      iat: Math.floor(Date.now() / 1000),
      aud: audienceOf('acme-okta'),
      sub_id: { format: 'opaque', id: 'esc1stream1' },
      events: { [STREAM_UPDATED]: { status: 'sleeping' } },
    };
    const pushed = await tx.push(pushUrl('acme-okta'), await tx.signSet(claims), { authorization: AUTH });
    expect({ status: pushed.status, body: pushed.body }).toEqual({
      status: 400,
      body: { err: 'invalid_request', description: "the stream-updated event's status must be one of: enabled, paused, disabled" },
    });
  });

  it('DELETE …/ssf-stream deletes it at the transmitter (stream_id in the query) and forgets it: 204, then GET 404', async () => {
    const res = await gw.api('DELETE', `/api/v2/connections/${connectionId}/ssf-stream`);
    expect({ status: res.status, body: res.body }).toEqual({ status: 204, body: undefined });
    const deleted = streamRequests().at(-1)!;
    expect(`${deleted.method} ${deleted.path}?${deleted.query}`).toBe(`DELETE ${PATHS.configuration}?stream_id=esc1stream1`);
    expect(stream).toBeNull();
    const options = (await gw.api('GET', `/api/v2/connections/${connectionId}`)).body.options.ssf;
    expect(options.stream_id).toBeUndefined();

    const after = await gw.api('GET', `/api/v2/connections/${connectionId}/ssf-stream`);
    expect(after.status).toBe(404);
    expect(after.body.message).toBe('the connection has no SSF stream: create it with POST …/ssf-stream');
  });

  describe('errors', () => {
    it('a connection without client credentials: 400, and nothing is sent to the transmitter', async () => {
      const id = await connection('no-credentials', { issuer: tx.issuer });
      const before = tx.requests.length;
      const res = await gw.api('POST', `/api/v2/connections/${id}/ssf-stream`);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: 'the connection has no options.ssf.client_id and client_secret: stream management needs the OAuth client credentials',
      });
      expect(tx.requests.length).toBe(before);
    });

    it('a connection without options.ssf: 400; an unknown connection: 404', async () => {
      const plain = await gw.api('POST', '/api/v2/connections', { name: 'no-ssf', strategy: 'okta', options: {} });
      const res = await gw.api('POST', `/api/v2/connections/${plain.body.id}/ssf-stream`);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'the connection has no options.ssf: Shared Signals are not enabled on it' });
      const unknown = await gw.api('GET', '/api/v2/connections/con_doesnotexist/ssf-stream');
      expect(unknown.status).toBe(404);
    });

    it('the transmitter answers 500: 502 naming its answer', async () => {
      tx.route('POST', PATHS.configuration, (_req, res) => json(res, 500, { errorCode: 'E0000009', errorSummary: 'Internal Server Error' }));
      try {
        const id = await connection('transmitter-fails', { issuer: tx.issuer, client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
        const res = await gw.api('POST', `/api/v2/connections/${id}/ssf-stream`);
        expect(res.body).toEqual({ statusCode: 502, error: 'Bad Gateway', message: 'the SSF transmitter refused to create the stream: 500 (Internal Server Error)' });
        expect((await gw.api('GET', `/api/v2/connections/${id}`)).body.options.ssf.stream_id).toBeUndefined();
      } finally {
        playOkta();
      }
    });

    it('the token endpoint refuses the client credentials: 502', async () => {
      const id = await connection('wrong-secret', { issuer: tx.issuer, client_id: CLIENT_ID, client_secret: 'not the secret' });
      const res = await gw.api('POST', `/api/v2/connections/${id}/ssf-stream`);
      expect(res.body).toEqual({
        statusCode: 502,
        error: 'Bad Gateway',
        message: "the SSF transmitter: the transmitter's token endpoint refused the client credentials: 401 (invalid_client)",
      });
    });

    it('the transmitter is unreachable: 502', async () => {
      const id = await connection('unreachable', { issuer: 'http://127.0.0.1:1', client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
      const res = await gw.api('POST', `/api/v2/connections/${id}/ssf-stream`);
      expect(res.body).toEqual({
        statusCode: 502,
        error: 'Bad Gateway',
        message: 'the SSF transmitter: GET http://127.0.0.1:1/.well-known/ssf-configuration failed: ECONNREFUSED',
      });
    });
  });

  describe('poll delivery (RFC 8936)', () => {
    /** SETs the transmitter holds for the poll stream, by jti, until acknowledged. */
    const queue = new Map<string, string>();
    const polls = () => tx.requests.filter((r) => r.path === POLL_PATH);
    const acked = () => polls().flatMap((r) => bodyOf(r).ack as string[]);
    let pollId: string;

    beforeAll(async () => {
      tx.route('POST', POLL_PATH, (req, res) => {
        if (!authorized(req, res)) return;
        for (const jti of bodyOf(req).ack as string[]) queue.delete(jti);
        json(res, 200, { sets: Object.fromEntries(queue), moreAvailable: false });
      });
      pollId = await connection('acme-poll', { issuer: tx.issuer, client_id: CLIENT_ID, client_secret: CLIENT_SECRET, delivery: 'poll' });
    });

    it('a transmitter that does not offer poll delivery: 400, nothing created', async () => {
      const before = streamRequests().length;
      const res = await gw.api('POST', `/api/v2/connections/${pollId}/ssf-stream`);
      expect(streamRequests().length).toBe(before);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: 'options.ssf.delivery is "poll", but the transmitter does not offer poll delivery (urn:ietf:rfc:8936)',
      });
    });

    it('POST …/ssf-stream asks for poll delivery; the poll endpoint the transmitter names is kept', async () => {
      tx.configure({ delivery_methods_supported: [PUSH, POLL] });
      const before = streams;
      const res = await gw.api('POST', `/api/v2/connections/${pollId}/ssf-stream`);
      expect(res.status).toBe(201);
      expect(res.body.stream.delivery).toEqual({ method: POLL, endpoint_url: `${tx.issuer}${POLL_PATH}` });
      expect(bodyOf(streamRequests().at(-1)!)).toEqual({ delivery: { method: POLL }, events_requested: [SESSION_REVOKED, CREDENTIAL_CHANGE] });
      expect(streams).toBe(before + 1);
      const { options } = (await gw.api('GET', `/api/v2/connections/${pollId}`)).body;
      expect({ stream_id: options.ssf.stream_id, delivery: options.ssf.delivery }).toEqual({ stream_id: res.body.stream_id, delivery: 'poll' });
    });

    it('SETs queued at the transmitter are fetched, each acknowledged once in a later poll, applied once; a refused one is acknowledged and logged', async () => {
      const pam = await seedUser(gw.dataSource, { connection: 'acme-poll', issuer: tx.issuer, sub: '00upam', email: 'pam@example.com', emailNormalized: 'pam@example.com' });
      const user = { format: 'email', email: 'pam@example.com' };
      const revoked = tx.sessionRevoked({ audience: audienceOf('acme-poll'), user });
      const changed = tx.credentialChange({ audience: audienceOf('acme-poll'), user });
      const misaddressed = tx.sessionRevoked({ audience: 'https://elsewhere.example.com', user });
      for (const claims of [revoked, changed, misaddressed]) queue.set(claims.jti as string, await tx.signSet(claims));
      const jtis = [revoked.jti, changed.jti, misaddressed.jti] as string[];

      await pollUntil(
        async () => queue.size,
        (size) => size === 0,
        { what: 'every queued SET to be acknowledged' },
      );
      // Two more polls: nothing is delivered (or acknowledged) again.
      const seen = polls().length;
      await pollUntil(async () => polls().length, (n) => n >= seen + 2, { what: 'two more polls' });

      expect(acked().filter((jti) => jtis.includes(jti)).sort()).toEqual([...jtis].sort());
      for (const r of polls()) {
        expect({ authorization: r.headers.authorization, returnImmediately: bodyOf(r).returnImmediately, maxEvents: bodyOf(r).maxEvents }).toEqual({
          authorization: `Bearer ${ACCESS_TOKEN}`,
          returnImmediately: true,
          maxEvents: 25,
        });
      }
      const accepted = await gw.dataSource.query(
        `SELECT data->'details'->>'jti' AS jti, data->'details'->>'action' AS action, data->>'user_id' AS user_id FROM log_events
         WHERE type = 'ssf_event_accepted' AND connection = 'acme-poll' ORDER BY data->'details'->>'action'`,
      );
      expect(accepted).toEqual([
        { jti: revoked.jti, action: 'logout', user_id: pam.userId },
        { jti: changed.jti, action: 'revoke-refresh-tokens', user_id: pam.userId },
      ]);
      const requests = await gw.dataSource.query(`SELECT initiator FROM logout_requests WHERE $1 = ANY(user_ids) ORDER BY initiator`, [pam.userId]);
      expect(requests).toEqual([{ initiator: 'caep-credential-change' }, { initiator: 'caep-session-revoked' }]);
      const rejected = await gw.dataSource.query(
        `SELECT data->'details' AS details FROM log_events WHERE type = 'ssf_event_rejected' AND connection = 'acme-poll'`,
      );
      expect(rejected.map((r: { details: Record<string, unknown> }) => r.details.err)).toEqual(['invalid_audience']);
    });
  });
});
