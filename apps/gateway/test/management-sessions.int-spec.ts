import { RunningGateway, startGateway } from './gateway.harness';

const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

describe('Management API: sessions (SPEC §6)', () => {
  let gw: RunningGateway;
  const ids = (list: { id: string }[]) => list.map((s) => s.id);

  beforeAll(async () => {
    gw = await startGateway();
    for (const user_id of ['auth0|alice', 'auth0|bob', 'auth0|carol']) {
      expect((await gw.api('POST', '/api/v2/users', { user_id })).status).toBe(201);
    }
  });
  afterAll(async () => gw.close());

  it('refuses every route without a token, and with a wrong token, with 401', async () => {
    for (const token of [null, 'wrong-token']) {
      expect((await gw.api('POST', '/api/v2/sessions', { user_id: 'auth0|alice' }, token)).status).toBe(401);
      expect((await gw.api('GET', '/api/v2/sessions/any', undefined, token)).status).toBe(401);
      expect((await gw.api('DELETE', '/api/v2/sessions/any', undefined, token)).status).toBe(401);
      expect((await gw.api('GET', '/api/v2/users/auth0%7Calice/sessions', undefined, token)).status).toBe(401);
      expect((await gw.api('DELETE', '/api/v2/users/auth0%7Calice/sessions', undefined, token)).status).toBe(401);
    }
    expect(await gw.dataSource.query(`SELECT id FROM sessions`)).toEqual([]);
  });

  it('registers a session with its clients and reads it back', async () => {
    const res = await gw.api('POST', '/api/v2/sessions', {
      id: 'sess-registered',
      user_id: 'auth0|carol',
      clients: [{ client_id: 'portal' }, { client_id: 'billing' }],
      expires_at: '2030-01-02T03:04:05Z',
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: 'sess-registered',
      user_id: 'auth0|carol',
      clients: [{ client_id: 'billing' }, { client_id: 'portal' }],
      created_at: iso,
      expires_at: '2030-01-02T03:04:05.000Z',
    });
    const fetched = await gw.api('GET', '/api/v2/sessions/sess-registered');
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(res.body);
  });

  it('generates an id when none is given; clients and expires_at are optional', async () => {
    const res = await gw.api('POST', '/api/v2/sessions', { user_id: 'auth0|carol' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^ses_[A-Za-z0-9]{24}$/),
      user_id: 'auth0|carol',
      clients: [],
      created_at: iso,
      expires_at: null,
    });
    expect((await gw.api('GET', `/api/v2/sessions/${res.body.id}`)).status).toBe(200);
  });

  it('answers 409 to a duplicate id, and keeps the first session as it was', async () => {
    expect(
      (
        await gw.api('POST', '/api/v2/sessions', {
          id: 'sess-dup',
          user_id: 'auth0|carol',
          clients: [{ client_id: 'a' }],
        })
      ).status,
    ).toBe(201);
    const again = await gw.api('POST', '/api/v2/sessions', {
      id: 'sess-dup',
      user_id: 'auth0|bob',
      clients: [{ client_id: 'b' }],
    });
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/session with id "sess-dup" already exists/);
    const kept = await gw.api('GET', '/api/v2/sessions/sess-dup');
    expect(kept.body).toMatchObject({ user_id: 'auth0|carol', clients: [{ client_id: 'a' }] });
  });

  it.each([
    [{ id: 's-no-user', user_id: 'auth0|nobody' }, /user_id "auth0\|nobody" is not the id of a user/],
    [{ id: 's-missing-user' }, /user_id must be a string/],
    [{ id: 's-bad-date', user_id: 'auth0|carol', expires_at: 'tomorrow' }, /expires_at must be an ISO 8601 date-time/],
    [
      { id: 's-dup-clients', user_id: 'auth0|carol', clients: [{ client_id: 'a' }, { client_id: 'a' }] },
      /clients must not repeat a client_id/,
    ],
    [
      { id: 's-client-shape', user_id: 'auth0|carol', clients: ['portal'] },
      /nested property clients must be either object or array/,
    ],
    [{ id: 's-client-missing', user_id: 'auth0|carol', clients: [{}] }, /clients\.0\.client_id must be a string/],
    [{ id: 's-extra', user_id: 'auth0|carol', colour: 'red' }, /property colour should not exist/],
    [{ id: 'bad id', user_id: 'auth0|carol' }, /id must be letters, digits/],
  ])('answers 400 with a clear message to %j, and registers nothing', async (body, message) => {
    const res = await gw.api('POST', '/api/v2/sessions', body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.anything() });
    expect([res.body.message].flat().join('; ')).toMatch(message);
    expect(await gw.dataSource.query(`SELECT id FROM sessions WHERE id = $1`, [body.id])).toEqual([]);
  });

  it('answers 404 for an unknown session, and for the sessions of an unknown user', async () => {
    const get = await gw.api('GET', '/api/v2/sessions/sess-unknown');
    expect(get.status).toBe(404);
    expect(get.body.message).toBe('No session with id sess-unknown');
    expect((await gw.api('DELETE', '/api/v2/sessions/sess-unknown')).status).toBe(404);
    const list = await gw.api('GET', '/api/v2/users/auth0%7Cnobody/sessions');
    expect(list.status).toBe(404);
    expect(list.body.message).toBe('No user with user_id auth0|nobody');
    expect((await gw.api('DELETE', '/api/v2/users/auth0%7Cnobody/sessions')).status).toBe(404);
  });

  it("pages a user's sessions in id order with from/take", async () => {
    const mine = ['page-1', 'page-2', 'page-3', 'page-4', 'page-5'];
    for (const id of [...mine].reverse()) {
      expect(
        (await gw.api('POST', '/api/v2/sessions', { id, user_id: 'auth0|alice', clients: [{ client_id: 'portal' }] }))
          .status,
      ).toBe(201);
    }
    expect((await gw.api('POST', '/api/v2/sessions', { id: 'page-0-bob', user_id: 'auth0|bob' })).status).toBe(201);

    const first = await gw.api('GET', '/api/v2/users/auth0%7Calice/sessions?take=2');
    expect(first.status).toBe(200);
    expect(ids(first.body.sessions)).toEqual(['page-1', 'page-2']);
    expect(first.body.sessions[0]).toEqual({
      id: 'page-1',
      user_id: 'auth0|alice',
      clients: [{ client_id: 'portal' }],
      created_at: iso,
      expires_at: null,
    });
    expect(first.body.next).toBe('page-2');

    const seen: string[] = [];
    let from: string | undefined;
    do {
      const page = await gw.api('GET', `/api/v2/users/auth0%7Calice/sessions?take=2${from ? `&from=${from}` : ''}`);
      expect(page.body.sessions.length).toBeLessThanOrEqual(2);
      seen.push(...ids(page.body.sessions));
      from = page.body.next;
    } while (from);
    expect(seen).toEqual(mine);

    const all = await gw.api('GET', '/api/v2/users/auth0%7Calice/sessions');
    expect(all.body).toEqual({ sessions: mine.map((id) => expect.objectContaining({ id })) });
    expect((await gw.api('GET', '/api/v2/users/auth0%7Calice/sessions?take=0')).status).toBe(400);
    expect((await gw.api('GET', '/api/v2/users/auth0%7Calice/sessions?take=101')).status).toBe(400);
  });
  // Revocation through DELETE is tested with the consumers running: test/management-revocations.e2e-spec.ts
});
