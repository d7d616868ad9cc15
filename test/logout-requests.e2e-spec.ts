import { FakeIdp, RpReceiver, pollUntil } from '@ulo/testing';
import { seedUser } from '../apps/gateway/test/revocation.fixtures';
import { RunningPipeline, startPipeline } from './support/pipeline';

interface DeliveryView {
  id: string;
  kind: string;
  session_id: string | null;
  status: string;
  attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
}

interface AppView {
  client_id: string;
  client_name: string | null;
  count: number;
  by_status: Record<string, number>;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  deliveries: DeliveryView[];
  deliveries_truncated: boolean;
}

/**
 * SPEC §6 `logout-requests`: what happened to one logout, through the real pipeline: a Universal
 * Logout with deliveries to a healthy, a retrying and a parked application, then the list with its
 * paging and filters.
 */
describe('Management API: logout requests', () => {
  let p: RunningPipeline;
  let idp: FakeIdp;
  const rps: RpReceiver[] = [];

  beforeAll(async () => {
    idp = await FakeIdp.start();
    // Retries every 100-200 ms for 3 s, then parked.
    p = await startPipeline({ BACKCHANNEL_RETRY_BASE_MS: '100', BACKCHANNEL_RETRY_MAX_DELAY_MS: '200', BACKCHANNEL_RETRY_WINDOW_SECONDS: '3' });
    const connection = { name: 'acme-okta', strategy: 'okta', options: { issuer: idp.issuer, client_id: idp.clientId } };
    expect((await p.gw.api('POST', '/api/v2/connections', connection)).status).toBe(201);
  });
  afterAll(async () => {
    for (const rp of rps) await rp.close();
    await p.close();
    await idp.close();
  });

  async function app(clientId: string, rp: RpReceiver): Promise<RpReceiver> {
    rps.push(rp);
    const res = await p.gw.api('POST', '/api/v2/clients', {
      client_id: clientId,
      name: `App ${clientId}`,
      oidc_logout: { backchannel_logout_urls: [rp.url], backchannel_logout_initiators: { mode: 'all' } },
    });
    expect(res.status).toBe(201);
    return rp;
  }

  async function universalLogout(sub: string): Promise<void> {
    const base = p.gw.config.publicBaseUrl;
    const token = await idp.sign({ audience: `${base}/oauth/global-token-revocation/connection/acme-okta` });
    const res = await fetch(`${p.gw.baseUrl}/oauth/global-token-revocation/connection/acme-okta`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub_id: { format: 'iss_sub', iss: idp.issuer, sub } }),
    });
    expect(res.status).toBe(204);
  }

  const appOf = (view: { backchannel: { applications: AppView[] } }, clientId: string) => view.backchannel.applications.find((a) => a.client_id === clientId)!;
  let ulRequestId = '';
  let annUserId = '';

  it("shows a Universal Logout's subject, users, steps with counts and times, and each application's deliveries in their states", async () => {
    await app('healthy', await RpReceiver.start(() => 200));
    const retrying = await app('retrying', await RpReceiver.start(() => 503));
    await app('parked', await RpReceiver.start(() => 503));
    const ann = await seedUser(p.gw.dataSource, {
      connection: 'acme-okta',
      issuer: idp.issuer,
      sub: '00uAnn',
      sessions: 2,
      refreshTokens: 2,
      clientIds: ['healthy', 'retrying', 'parked'],
    });
    annUserId = ann.userId;
    const before = Date.now();
    await universalLogout('00uAnn');

    const list = await pollUntil(() => p.gw.api('GET', `/api/v2/logout-requests?user_id=${encodeURIComponent(ann.userId)}`), (r) => r.body.logout_requests?.length === 1, {
      what: 'the request in the list',
    });
    ulRequestId = list.body.logout_requests[0].id;

    // While the retrying application keeps answering 503, its deliveries are pending with their attempts and error.
    const whileRetrying = await pollUntil(
      () => p.gw.api('GET', `/api/v2/logout-requests/${ulRequestId}`),
      (r) => r.status === 200 && appOf(r.body, 'retrying')?.by_status.pending === 2 && appOf(r.body, 'retrying').attempts >= 4,
      { timeoutMs: 2500, intervalMs: 50, what: 'the retrying application with two attempts per delivery' },
    );
    const retryingView = appOf(whileRetrying.body, 'retrying');
    expect(retryingView.last_status_code).toBe(503);
    expect(retryingView.last_error).toMatch(/503/);
    retrying.answer(() => 200);

    const done = await pollUntil(
      () => p.gw.api('GET', `/api/v2/logout-requests/${ulRequestId}`),
      (r) => r.body.backchannel?.by_status.pending === 0,
      { timeoutMs: 15_000, what: 'every delivery to be over' },
    );
    const view = done.body;
    expect(view).toMatchObject({
      id: ulRequestId,
      initiator: 'idp-logout',
      status: 'completed',
      connection: { id: expect.any(String), name: 'acme-okta' },
      subject: { format: 'iss_sub', iss: idp.issuer, sub: '00uAnn' },
      user_ids: [ann.userId],
      origin: { ip: expect.any(String) },
      steps: {
        sessions: { state: 'done', count: 2, at: expect.any(String) },
        refresh_tokens: { state: 'done', count: 2, at: expect.any(String) },
      },
      backchannel: { count: 6, by_status: { pending: 0, succeeded: 4, failed: 0, parked: 2 } },
    });
    const accepted = Date.parse(view.accepted_at);
    expect(accepted).toBeGreaterThanOrEqual(before - 1000);
    for (const at of [view.steps.sessions.at, view.steps.refresh_tokens.at, view.completed_at]) expect(Date.parse(at)).toBeGreaterThanOrEqual(accepted);
    expect(Date.parse(view.completed_at)).toBe(Math.max(Date.parse(view.steps.sessions.at), Date.parse(view.steps.refresh_tokens.at)));

    expect(view.backchannel.applications.map((a: AppView) => a.client_id)).toEqual(['healthy', 'parked', 'retrying']);
    expect(appOf(view, 'healthy')).toMatchObject({ client_name: 'App healthy', count: 2, by_status: { succeeded: 2 }, attempts: 2, last_error: null });
    expect(appOf(view, 'retrying')).toMatchObject({ count: 2, by_status: { succeeded: 2 } });
    expect(appOf(view, 'retrying').attempts).toBeGreaterThanOrEqual(6);
    expect(appOf(view, 'parked')).toMatchObject({
      count: 2,
      by_status: { parked: 2 },
      last_status_code: 503,
      last_error: expect.stringMatching(/503/),
      deliveries_truncated: false,
    });
    // Every delivery by application, with its kind, session, state, attempts and last error.
    for (const clientId of ['healthy', 'retrying', 'parked']) {
      const deliveries = appOf(view, clientId).deliveries;
      expect(deliveries.map((d) => d.session_id).sort()).toEqual([...ann.sessionIds].sort());
      expect(deliveries.every((d) => d.kind === 'sid' && d.next_attempt_at === null)).toBe(true);
    }
    expect(appOf(view, 'parked').deliveries.every((d) => d.status === 'parked' && d.last_status_code === 503 && d.attempts >= 2)).toBe(true);
    expect(appOf(view, 'retrying').deliveries.every((d) => d.status === 'succeeded' && d.last_error === null && d.attempts >= 3)).toBe(true);
    expect(appOf(view, 'healthy').deliveries.every((d) => d.status === 'succeeded' && d.attempts === 1 && d.last_status_code === 200)).toBe(true);

    // The log events of the request carry its id.
    const logged = await p.gw.dataSource.query(
      `SELECT type, count(*)::int AS n FROM log_events WHERE data->'details'->>'request_id' = $1 GROUP BY type ORDER BY type`,
      [ulRequestId],
    );
    expect(logged).toEqual([
      { type: 'oidc_backchannel_logout_failed', n: 2 },
      { type: 'oidc_backchannel_logout_succeeded', n: 4 },
      { type: 'srrt', n: 2 },
      { type: 'universal_logout_succeeded', n: 1 },
    ]);
  });

  it('pages newest first and filters by user, connection, initiator, status and date', async () => {
    const bob = await seedUser(p.gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub: '00uBob', sessions: 2, refreshTokens: 0, clientIds: ['healthy'] });
    expect((await p.gw.api('DELETE', `/api/v2/sessions/${bob.sessionIds[0]}`)).status).toBe(202);
    expect((await p.gw.api('DELETE', `/api/v2/users/${encodeURIComponent(bob.userId)}/sessions`)).status).toBe(202);
    const bobs = await pollUntil(
      () => p.gw.api('GET', `/api/v2/logout-requests?user_id=${encodeURIComponent(bob.userId)}&status=completed`),
      // Complete (both steps recorded) comes before the back-channel delivery is planned and over: wait
      // for each request's one delivery (its one session at the healthy application) to be over.
      (r) =>
        r.body.logout_requests?.length === 2 &&
        r.body.logout_requests.every((q: { backchannel: { count: number; by_status: { pending: number } } }) => q.backchannel.count === 1 && q.backchannel.by_status.pending === 0),
      { what: "bob's two requests to complete and their deliveries to be over" },
    );
    const [newest, older] = bobs.body.logout_requests;
    expect(Date.parse(newest.accepted_at)).toBeGreaterThanOrEqual(Date.parse(older.accepted_at));
    expect(newest).toMatchObject({ initiator: 'session-revoked', connection: null, subject: null, steps: { sessions: { state: 'done', count: 1 }, refresh_tokens: { state: 'not_requested' } } });
    expect(older).toMatchObject({ steps: { sessions: { state: 'done', count: 1 } } });
    expect(newest.backchannel).toMatchObject({ count: 1, by_status: { succeeded: 1 } });
    // The list shows the counts by application, not every delivery.
    expect(newest.backchannel.applications).toEqual([expect.objectContaining({ client_id: 'healthy', count: 1 })]);
    expect(newest.backchannel.applications[0]).not.toHaveProperty('deliveries');

    // Paging: one at a time, newest first, until there is no next.
    const seen: string[] = [];
    let from: string | undefined;
    for (;;) {
      const page = await p.gw.api('GET', `/api/v2/logout-requests?take=1${from ? `&from=${from}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.logout_requests).toHaveLength(1);
      seen.push(page.body.logout_requests[0].id);
      if (!page.body.next) break;
      from = page.body.next;
    }
    expect(seen).toEqual([newest.id, older.id, ulRequestId]);

    const ids = async (q: string) => ((await p.gw.api('GET', `/api/v2/logout-requests?${q}`)).body.logout_requests as { id: string }[]).map((r) => r.id);
    expect(await ids('connection=acme-okta')).toEqual([ulRequestId]);
    expect(await ids('initiator=session-revoked')).toEqual([newest.id, older.id]);
    expect(await ids('initiator=idp-logout')).toEqual([ulRequestId]);
    expect(await ids(`user_id=${encodeURIComponent(annUserId)}`)).toEqual([ulRequestId]);
    expect(await ids('status=in_progress')).toEqual([]);
    expect(await ids(`from_date=${encodeURIComponent(newest.accepted_at)}`)).toEqual([newest.id]);
    expect(await ids(`to_date=${encodeURIComponent(newest.accepted_at)}`)).toEqual([older.id, ulRequestId]);

    for (const [q, message] of [
      ['status=stuck', /status must be one of: in_progress, completed/],
      ['initiator=session-expired', /initiator must be one of/],
      ['from_date=yesterday', /from_date must be an ISO 8601/],
      ['from_date=2026-02-01T00:00:00Z&to_date=2026-01-01T00:00:00Z', /from_date must be before to_date/],
      ['from=no-such-request', /from must be the id of a logout request/],
      ['take=0', /take must not be less than 1/],
    ] as const) {
      const res = await p.gw.api('GET', `/api/v2/logout-requests?${q}`);
      expect(res.status).toBe(400);
      expect([res.body.message].flat().join('; ')).toMatch(message);
    }
    const missing = await p.gw.api('GET', '/api/v2/logout-requests/no-such-request');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe('No logout request with id no-such-request');
    expect((await p.gw.api('GET', '/api/v2/logout-requests', undefined, null)).status).toBe(401);
  });

  it('filters by the email of a matched user, normalised as email subjects are, combined with the other filters', async () => {
    const carol = await seedUser(p.gw.dataSource, {
      connection: 'acme-okta',
      issuer: idp.issuer,
      sub: '00uCarol',
      email: 'Carol.Smith@Example.COM',
      emailNormalized: 'carol.smith@example.com',
      sessions: 0,
      refreshTokens: 0,
    });
    expect((await p.gw.api('DELETE', `/api/v2/users/${encodeURIComponent(carol.userId)}/sessions`)).status).toBe(202);
    await universalLogout('00uCarol');
    // A user without identities keeps its email only as given; one with a Unicode address, through its identity.
    const dave = await p.gw.api('POST', '/api/v2/users', { email: 'Dave@Example.org' });
    expect(dave.status).toBe(201);
    const emile = await p.gw.api('POST', '/api/v2/users', {
      email: 'Émile@Bücher.example',
      identities: [{ connection: 'acme-okta', provider_user_id: '00uEmile', issuer: idp.issuer }],
    });
    expect(emile.status).toBe(201);
    for (const user of [dave.body.user_id as string, emile.body.user_id as string]) {
      expect((await p.gw.api('DELETE', `/api/v2/users/${encodeURIComponent(user)}/sessions`)).status).toBe(202);
    }

    const ids = async (q: string) => {
      const res = await p.gw.api('GET', `/api/v2/logout-requests?${q}`);
      expect(res.status).toBe(200);
      return (res.body.logout_requests as { id: string; initiator: string }[]).map((r) => r.id);
    };
    const byUser = async (userId: string) => ids(`user_id=${encodeURIComponent(userId)}`);
    const carols = await byUser(carol.userId);
    expect(carols).toHaveLength(2);
    const [carolUl, carolDelete] = carols;
    const [daves, emiles] = [await byUser(dave.body.user_id), await byUser(emile.body.user_id)];
    expect(daves).toHaveLength(1);
    expect(emiles).toHaveLength(1);

    const byEmail = (email: string, more = '') => ids(`email=${encodeURIComponent(email)}${more}`);
    expect(await byEmail('carol.smith@example.com')).toEqual([carolUl, carolDelete]);
    expect(await byEmail('CAROL.SMITH@example.com')).toEqual([carolUl, carolDelete]);
    expect(await byEmail('Carol.Smith@Example.COM', '&initiator=session-revoked')).toEqual([carolDelete]);
    expect(await byEmail('carol.smith@EXAMPLE.COM', '&connection=acme-okta')).toEqual([carolUl]);
    expect(await byEmail('carol.smith@example.com', `&user_id=${encodeURIComponent(annUserId)}`)).toEqual([]);
    expect(await byEmail('carol.smith@example.com', '&take=1')).toEqual([carolUl]);
    expect(await byEmail('dave@example.ORG')).toEqual(daves);
    expect(await byEmail('ÉMILE@BÜCHER.EXAMPLE')).toEqual(emiles);
    expect(await byEmail('émile@xn--bcher-kva.example')).toEqual(emiles);
    // Other addresses, and text that no address normalises to, match nobody.
    expect(await byEmail('carol.smith@example.org')).toEqual([]);
    expect(await byEmail('carol.smith')).toEqual([]);

    const tooLong = await p.gw.api('GET', `/api/v2/logout-requests?email=${'a'.repeat(309)}@example.com`);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body).toEqual({ statusCode: 400, error: 'Bad Request', message: ['email must be shorter than or equal to 320 characters'] });
  });
});
