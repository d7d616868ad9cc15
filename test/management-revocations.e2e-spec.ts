import { pollUntil } from '@ulo/testing';
import { RunningPipeline, startPipeline } from './support/pipeline';

/** SPEC §6: Management API deletes answer 202 and flow through the logout pipeline. */
describe('Management API revocations through the pipeline', () => {
  let p: RunningPipeline;
  const ids = (list: { id: string }[]) => list.map((s) => s.id);
  const api = (method: string, path: string, body?: unknown) => p.gw.api(method, path, body);
  const requestIds = async () =>
    (await p.gw.dataSource.query(`SELECT id FROM logout_requests ORDER BY created_at`)).map((r: { id: string }) => r.id);

  beforeAll(async () => {
    p = await startPipeline();
    for (const user_id of ['auth0|alice', 'auth0|bob']) {
      expect((await api('POST', '/api/v2/users', { user_id })).status).toBe(201);
    }
  });
  afterAll(async () => p.close());

  it('revokes one session with 202: it then answers 404 and leaves the lists, the others stay', async () => {
    for (const [id, user_id] of [['one-a1', 'auth0|alice'], ['one-a2', 'auth0|alice'], ['one-b1', 'auth0|bob']]) {
      expect((await api('POST', '/api/v2/sessions', { id, user_id })).status).toBe(201);
    }
    expect((await api('DELETE', '/api/v2/sessions/one-a1')).status).toBe(202);
    await pollUntil(() => api('GET', '/api/v2/sessions/one-a1'), (r) => r.status === 404, { what: 'session one-a1 revoked' });
    expect(ids((await api('GET', '/api/v2/users/auth0%7Calice/sessions')).body.sessions)).toEqual(['one-a2']);
    expect(ids((await api('GET', '/api/v2/users/auth0%7Cbob/sessions')).body.sessions)).toEqual(['one-b1']);
    const [requestId] = await requestIds();
    expect(
      await p.gw.dataSource.query(
        `SELECT id, revoked_by, revoked_at IS NOT NULL AS revoked FROM sessions WHERE id LIKE 'one-%' ORDER BY id`,
      ),
    ).toEqual([
      { id: 'one-a1', revoked_by: requestId, revoked: true },
      { id: 'one-a2', revoked_by: null, revoked: false },
      { id: 'one-b1', revoked_by: null, revoked: false },
    ]);
    expect((await api('DELETE', '/api/v2/sessions/one-a1')).status).toBe(404);
  });

  it("revokes all of a user's sessions with 202, and no other user's", async () => {
    for (const [id, user_id] of [['all-a1', 'auth0|alice'], ['all-a2', 'auth0|alice'], ['all-b1', 'auth0|bob']]) {
      expect((await api('POST', '/api/v2/sessions', { id, user_id })).status).toBe(201);
    }
    expect((await api('DELETE', '/api/v2/users/auth0%7Calice/sessions')).status).toBe(202);
    await pollUntil(() => api('GET', '/api/v2/users/auth0%7Calice/sessions'), (r) => r.body.sessions.length === 0, {
      what: "alice's sessions revoked",
    });
    expect((await api('GET', '/api/v2/sessions/all-a1')).status).toBe(404);
    expect((await api('GET', '/api/v2/sessions/all-a2')).status).toBe(404);
    expect((await api('GET', '/api/v2/sessions/all-b1')).status).toBe(200);
    expect(ids((await api('GET', '/api/v2/users/auth0%7Cbob/sessions')).body.sessions)).toEqual(['one-b1', 'all-b1'].sort());
    // A user with nothing left to revoke still gets 202.
    expect((await api('DELETE', '/api/v2/users/auth0%7Calice/sessions')).status).toBe(202);
  });

  it('revokes one refresh token with 202, and all of a user\'s, leaving sessions and other users alone', async () => {
    expect((await api('POST', '/api/v2/sessions', { id: 'alice-live', user_id: 'auth0|alice' })).status).toBe(201);
    for (const [id, user_id, session_id] of [['rt-a1', 'auth0|alice', 'alice-live'], ['rt-a2', 'auth0|alice', undefined], ['rt-b1', 'auth0|bob', undefined]]) {
      expect((await api('POST', '/api/v2/refresh-tokens', { id, user_id, client_id: 'portal', session_id })).status).toBe(201);
    }
    expect((await api('DELETE', '/api/v2/refresh-tokens/rt-a1')).status).toBe(202);
    await pollUntil(() => api('GET', '/api/v2/refresh-tokens/rt-a1'), (r) => r.status === 404, { what: 'rt-a1 revoked' });
    expect(ids((await api('GET', '/api/v2/users/auth0%7Calice/refresh-tokens')).body.tokens)).toEqual(['rt-a2']);

    expect((await api('DELETE', '/api/v2/users/auth0%7Calice/refresh-tokens')).status).toBe(202);
    await pollUntil(() => api('GET', '/api/v2/users/auth0%7Calice/refresh-tokens'), (r) => r.body.tokens.length === 0, {
      what: "alice's refresh tokens revoked",
    });
    expect((await api('GET', '/api/v2/refresh-tokens/rt-b1')).status).toBe(200);
    expect((await api('GET', '/api/v2/sessions/alice-live')).status).toBe(200);
    const srrt = await p.gw.dataSource.query(`SELECT data FROM log_events WHERE type = 'srrt' ORDER BY log_id`);
    expect(srrt.map((r: { data: { details: { credential_id: string } } }) => r.data.details.credential_id)).toEqual(['rt-a1', 'rt-a2']);
    // No Universal Logout happened: nothing claims one did.
    expect(await p.gw.dataSource.query(`SELECT 1 FROM log_events WHERE type = 'universal_logout_succeeded'`)).toEqual([]);
  });
});
