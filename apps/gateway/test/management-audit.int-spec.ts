import { createHash } from 'node:crypto';
import { LogEvent } from '@ulo/contracts';
import { TEST_MANAGEMENT_TOKEN } from '@ulo/testing';
import { RunningGateway, startGateway } from './gateway.harness';

/** A sapi/fapi event, with the request and response its details carry. */
type AuditEvent = LogEvent & { details: { request: Record<string, any>; response: { statusCode: number; body: any } } };

/** SPEC §5: every Management API write is logged, `sapi` when it succeeded, `fapi` when it failed. */
describe('Management API writes in the log (sapi / fapi)', () => {
  let gw: RunningGateway;
  const fingerprint = createHash('sha256').update(TEST_MANAGEMENT_TOKEN).digest('hex').slice(0, 16);

  /** The sapi/fapi events logged since the last call, oldest first. */
  let seen = 0;
  const newEvents = async (): Promise<AuditEvent[]> => {
    const rows: { data: AuditEvent }[] = await gw.dataSource.query(
      `SELECT data FROM log_events WHERE type IN ('sapi', 'fapi') ORDER BY log_id OFFSET $1`,
      [seen],
    );
    seen += rows.length;
    return rows.map((r) => r.data);
  };

  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => gw.close());

  it('logs a successful write as sapi with the request, the status and the caller, queued for log-events', async () => {
    const res = await gw.api('POST', '/api/v2/connections', { name: 'acme-okta', strategy: 'okta', options: { issuer: 'https://acme.okta.com' } });
    expect(res.status).toBe(201);
    const [event] = await newEvents();
    expect(event).toMatchObject({
      type: 'sapi',
      description: 'Create /api/v2/connections',
      ip: '127.0.0.1',
      user_agent: expect.any(String),
      details: {
        request: {
          method: 'POST',
          path: '/api/v2/connections',
          route: '/api/v2/connections',
          body: { name: 'acme-okta', strategy: 'okta', options: { issuer: 'https://acme.okta.com' } },
          auth: { strategy: 'bearer', token_fingerprint: fingerprint },
        },
        response: { statusCode: 201, body: { id: res.body.id, name: 'acme-okta' } },
      },
    });
    // Queued in the same statement for <prefix>log-events (the relay may already have sent it).
    const { n } = (await gw.dataSource.query(`SELECT count(*)::int AS n FROM log_events WHERE log_id = $1`, [event.log_id]))[0];
    expect(n).toBe(1);
    expect(JSON.stringify(event)).not.toContain(TEST_MANAGEMENT_TOKEN);
  });

  it('logs each failed write as fapi with the status and the message the caller got, and changes nothing else', async () => {
    const body = { name: 'acme-okta', strategy: 'okta', options: { issuer: 'https://acme.okta.com' } };
    const conflict = await gw.api('POST', '/api/v2/connections', body);
    const invalid = await gw.api('POST', '/api/v2/connections', { name: 'bad name', strategy: 'ldap' });
    const missing = await gw.api('DELETE', '/api/v2/connections/con_doesnotexist00000');
    expect([conflict.status, invalid.status, missing.status]).toEqual([409, 400, 404]);

    const events = await newEvents();
    expect(events.map((e) => [e.type, e.details.request.method, e.details.response.statusCode])).toEqual([
      ['fapi', 'POST', 409],
      ['fapi', 'POST', 400],
      ['fapi', 'DELETE', 404],
    ]);
    expect(events[0].description).toBe(conflict.body.message);
    expect(events[1].description).toMatch(/name must be letters and digits/);
    expect(events[1].description).toMatch(/strategy must be one of/);
    expect(events[2].details.request).toMatchObject({ path: '/api/v2/connections/con_doesnotexist00000', route: '/api/v2/connections/:id' });
    expect((await gw.api('GET', '/api/v2/connections')).body.connections).toHaveLength(1);
  });

  it('logs no read, and nothing for a caller without a valid token', async () => {
    expect((await gw.api('GET', '/api/v2/connections')).status).toBe(200);
    expect((await gw.api('GET', '/api/v2/logs?take=5')).status).toBe(200);
    expect((await gw.api('POST', '/api/v2/connections', { name: 'x', strategy: 'okta' }, null)).status).toBe(401);
    expect((await gw.api('DELETE', '/api/v2/connections/con_x', undefined, 'wrong')).status).toBe(401);
    expect(await newEvents()).toEqual([]);
  });

  it('never logs a credential: Authorization, secrets and custom header values are redacted', async () => {
    const authorization = 'Splunk 2f0e5c1a-very-secret';
    const apiKey = 'k-3f9a0c-custom-header-secret';
    const res = await gw.api('POST', '/api/v2/log-streams', {
      name: 'SIEM',
      type: 'http',
      sink: { httpEndpoint: 'https://siem.example.com/in', httpAuthorization: authorization, httpCustomHeaders: [{ header: 'X-Api-Key', value: apiKey }] },
    });
    expect(res.status).toBe(201);
    const patched = await gw.api('PATCH', `/api/v2/log-streams/${res.body.id}`, { sink: { httpAuthorization: `${authorization}-2` } });
    expect(patched.status).toBe(200);
    const clientSecret = 'client-secret-value-0001';
    const conn = await gw.api('POST', '/api/v2/connections', {
      name: 'corp-oidc',
      strategy: 'oidc',
      options: { issuer: 'https://idp.example.com', client_id: 'abc', client_secret: clientSecret },
    });
    expect(conn.status).toBe(201);

    const events = await newEvents();
    expect(events.map((e) => `${e.type} ${e.details.request.method} ${e.details.response.statusCode}`)).toEqual([
      'sapi POST 201',
      'sapi PATCH 200',
      'sapi POST 201',
    ]);
    expect(events[2].details.request.body.options).toEqual({ issuer: 'https://idp.example.com', client_id: 'abc', client_secret: '[redacted]' });
    expect(events[0].details.request.body.sink).toEqual({
      httpEndpoint: 'https://siem.example.com/in',
      httpAuthorization: '[redacted]',
      httpCustomHeaders: [{ header: 'X-Api-Key', value: '[redacted]' }],
    });
    expect(events[1].details.request.route).toBe('/api/v2/log-streams/:id');
    const stored = JSON.stringify(await gw.dataSource.query(`SELECT data FROM log_events`));
    const queued = JSON.stringify(await gw.dataSource.query(`SELECT value FROM outbox`));
    for (const secret of [authorization, apiKey, clientSecret]) {
      expect(stored).not.toContain(secret);
      expect(queued).not.toContain(secret);
    }
  });

  it('names the user of a write under /api/v2/users/{id}', async () => {
    const user = await gw.api('POST', '/api/v2/users', { user_id: 'auth0|audit-1', email: 'audit@example.com' });
    expect(user.status).toBe(201);
    const revoke = await gw.api('DELETE', `/api/v2/users/${encodeURIComponent(user.body.user_id)}/sessions`);
    expect(revoke.status).toBe(202);
    const events = await newEvents();
    expect(events.map((e) => [e.type, e.description, e.user_id])).toEqual([
      ['sapi', 'Create /api/v2/users', null],
      ['sapi', 'Delete /api/v2/users/:id/sessions', user.body.user_id],
    ]);
  });
});
