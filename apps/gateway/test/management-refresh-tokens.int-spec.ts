import { RunningGateway, startGateway } from './gateway.harness';

const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

describe('Management API: refresh tokens (SPEC §6)', () => {
  let gw: RunningGateway;
  const ids = (list: { id: string }[]) => list.map((t) => t.id);
  const register = async (id: string, user_id: string, extra: Record<string, unknown> = {}) => {
    const res = await gw.api('POST', '/api/v2/refresh-tokens', { id, user_id, client_id: 'portal', ...extra });
    expect(res.status).toBe(201);
    return res.body;
  };

  beforeAll(async () => {
    gw = await startGateway();
    for (const user_id of ['auth0|alice', 'auth0|bob']) {
      expect((await gw.api('POST', '/api/v2/users', { user_id })).status).toBe(201);
    }
    expect((await gw.api('POST', '/api/v2/sessions', { id: 'alice-session', user_id: 'auth0|alice' })).status).toBe(
      201,
    );
  });
  afterAll(async () => gw.close());

  it('refuses every route without a token, and with a wrong token, with 401', async () => {
    const body = { user_id: 'auth0|alice', client_id: 'portal' };
    for (const token of [null, 'wrong-token']) {
      expect((await gw.api('POST', '/api/v2/refresh-tokens', body, token)).status).toBe(401);
      expect((await gw.api('GET', '/api/v2/refresh-tokens/any', undefined, token)).status).toBe(401);
      expect((await gw.api('DELETE', '/api/v2/refresh-tokens/any', undefined, token)).status).toBe(401);
      expect((await gw.api('GET', '/api/v2/users/auth0%7Calice/refresh-tokens', undefined, token)).status).toBe(401);
      expect((await gw.api('DELETE', '/api/v2/users/auth0%7Calice/refresh-tokens', undefined, token)).status).toBe(401);
    }
    expect(await gw.dataSource.query(`SELECT id FROM refresh_tokens`)).toEqual([]);
  });

  it('registers a refresh token tied to a session and reads it back', async () => {
    const res = await gw.api('POST', '/api/v2/refresh-tokens', {
      id: 'rt-online',
      user_id: 'auth0|alice',
      client_id: 'portal',
      session_id: 'alice-session',
      expires_at: '2030-01-02T03:04:05.678Z',
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: 'rt-online',
      user_id: 'auth0|alice',
      client_id: 'portal',
      session_id: 'alice-session',
      created_at: iso,
      expires_at: '2030-01-02T03:04:05.678Z',
    });
    const fetched = await gw.api('GET', '/api/v2/refresh-tokens/rt-online');
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(res.body);
  });

  it('registers an offline token (no session) with a generated id', async () => {
    const res = await gw.api('POST', '/api/v2/refresh-tokens', { user_id: 'auth0|alice', client_id: 'cli' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^rt_[A-Za-z0-9]{24}$/),
      user_id: 'auth0|alice',
      client_id: 'cli',
      session_id: null,
      created_at: iso,
      expires_at: null,
    });
    expect((await gw.api('GET', `/api/v2/refresh-tokens/${res.body.id}`)).status).toBe(200);
  });

  it('answers 409 to a duplicate id, and keeps the first token as it was', async () => {
    await register('rt-dup', 'auth0|alice');
    const again = await gw.api('POST', '/api/v2/refresh-tokens', {
      id: 'rt-dup',
      user_id: 'auth0|bob',
      client_id: 'other',
    });
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/refresh token with id "rt-dup" already exists/);
    expect((await gw.api('GET', '/api/v2/refresh-tokens/rt-dup')).body).toMatchObject({
      user_id: 'auth0|alice',
      client_id: 'portal',
    });
  });

  it.each([
    [
      { id: 'rt-no-user', user_id: 'auth0|nobody', client_id: 'portal' },
      /user_id "auth0\|nobody" is not the id of a user/,
    ],
    [{ id: 'rt-no-client', user_id: 'auth0|alice' }, /client_id must be a string/],
    [
      { id: 'rt-no-session', user_id: 'auth0|alice', client_id: 'portal', session_id: 'nope' },
      /session_id "nope" is not a session of user auth0\|alice/,
    ],
    [
      { id: 'rt-other-session', user_id: 'auth0|bob', client_id: 'portal', session_id: 'alice-session' },
      /session_id "alice-session" is not a session of user auth0\|bob/,
    ],
    [
      { id: 'rt-bad-date', user_id: 'auth0|alice', client_id: 'portal', expires_at: 1893456000 },
      /expires_at must be an ISO 8601 date-time/,
    ],
    [
      { id: 'rt-extra', user_id: 'auth0|alice', client_id: 'portal', token: 'secret' },
      /property token should not exist/,
    ],
    [{ id: 'bad/id', user_id: 'auth0|alice', client_id: 'portal' }, /id must be letters, digits/],
  ])('answers 400 with a clear message to %j, and registers nothing', async (body, message) => {
    const res = await gw.api('POST', '/api/v2/refresh-tokens', body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.anything() });
    expect([res.body.message].flat().join('; ')).toMatch(message);
    expect(await gw.dataSource.query(`SELECT id FROM refresh_tokens WHERE id = $1`, [body.id])).toEqual([]);
  });

  it('answers 404 for an unknown refresh token, and for the tokens of an unknown user', async () => {
    const get = await gw.api('GET', '/api/v2/refresh-tokens/rt-unknown');
    expect(get.status).toBe(404);
    expect(get.body.message).toBe('No refresh token with id rt-unknown');
    expect((await gw.api('DELETE', '/api/v2/refresh-tokens/rt-unknown')).status).toBe(404);
    const list = await gw.api('GET', '/api/v2/users/auth0%7Cnobody/refresh-tokens');
    expect(list.status).toBe(404);
    expect(list.body.message).toBe('No user with user_id auth0|nobody');
    expect((await gw.api('DELETE', '/api/v2/users/auth0%7Cnobody/refresh-tokens')).status).toBe(404);
  });

  it("pages a user's refresh tokens in id order with from/take, under `tokens`", async () => {
    await gw.dataSource.query(`DELETE FROM refresh_tokens`);
    const mine = ['page-1', 'page-2', 'page-3', 'page-4', 'page-5'];
    for (const id of [...mine].reverse()) await register(id, 'auth0|alice');
    await register('page-0-bob', 'auth0|bob');

    const first = await gw.api('GET', '/api/v2/users/auth0%7Calice/refresh-tokens?take=2');
    expect(first.status).toBe(200);
    expect(ids(first.body.tokens)).toEqual(['page-1', 'page-2']);
    expect(first.body.next).toBe('page-2');

    const seen: string[] = [];
    let from: string | undefined;
    do {
      const page = await gw.api(
        'GET',
        `/api/v2/users/auth0%7Calice/refresh-tokens?take=2${from ? `&from=${from}` : ''}`,
      );
      expect(page.body.tokens.length).toBeLessThanOrEqual(2);
      seen.push(...ids(page.body.tokens));
      from = page.body.next;
    } while (from);
    expect(seen).toEqual(mine);
    expect((await gw.api('GET', '/api/v2/users/auth0%7Calice/refresh-tokens?take=0')).status).toBe(400);
    expect((await gw.api('GET', '/api/v2/users/auth0%7Calice/refresh-tokens?take=101')).status).toBe(400);
  });
  // Revocation through DELETE is tested with the consumers running: test/management-revocations.e2e-spec.ts
});
