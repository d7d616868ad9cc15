import { spawn, ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { FakeIdp, freePort, pollUntil } from '@ulo/testing';
import { seedUser } from '../apps/gateway/test/revocation.fixtures';
import { RunningPipeline, startPipeline } from './support/pipeline';

/** One relying-party process: express-openid-connect configured for `alg`, pointed at `issuer`. */
class ExpressRp {
  readonly output: string[] = [];
  url = '';
  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => this.output.push(d.toString()));
  }

  static async start(issuer: string, clientId: string, alg?: string): Promise<ExpressRp> {
    const child = spawn(process.execPath, [join(__dirname, 'interop/express-rp/server.js')], {
      env: { ...process.env, ISSUER_BASE_URL: issuer, CLIENT_ID: clientId, ...(alg ? { ID_TOKEN_SIGNING_ALG: alg } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const rp = new ExpressRp(child);
    const listening = await pollUntil(async () => /LISTENING (\d+)/.exec(rp.output.join('')), (m) => m !== null, {
      what: 'the express app to listen',
    });
    rp.url = `http://127.0.0.1:${listening![1]}`;
    return rp;
  }

  async store(): Promise<string[]> {
    return (await (await fetch(`${this.url}/_store`)).json()) as string[];
  }

  /** The library's own verdict on a session whose ID token carried these claims. */
  async loggedOut(claims: { sid?: string; sub?: string }): Promise<boolean> {
    const res = await fetch(`${this.url}/_logged_out?${new URLSearchParams(claims as Record<string, string>).toString()}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { loggedOut: boolean }).loggedOut;
  }

  stop(): void {
    this.child.kill();
  }
}

/**
 * Interop: a relying-party library no one here wrote accepts our logout tokens (RS256 with sid, its
 * default; ES256 when configured for it; a sub-only token) and then treats the session as logged
 * out. If it needs more from discovery or the token, the fix belongs on our side.
 */
describe("Back-Channel Logout into Auth0's express-openid-connect", () => {
  let p: RunningPipeline;
  let idp: FakeIdp;
  let base: string;
  const rps: ExpressRp[] = [];

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    idp = await FakeIdp.start();
    p = await startPipeline({ PORT: String(port), PUBLIC_BASE_URL: base });
    expect((await p.gw.api('POST', '/api/v2/connections', { name: 'acme-okta', strategy: 'okta', options: { issuer: idp.issuer, client_id: idp.clientId } })).status).toBe(201);
  });
  afterAll(async () => {
    for (const rp of rps) rp.stop();
    await p.close();
    await idp.close();
  });

  async function expressApp(clientId: string, settings: Record<string, unknown>, alg?: string): Promise<ExpressRp> {
    const rp = await ExpressRp.start(base, clientId, alg);
    rps.push(rp);
    const res = await p.gw.api('POST', '/api/v2/clients', {
      client_id: clientId,
      name: `Express app ${clientId}`,
      oidc_logout: { backchannel_logout_urls: [`${rp.url}/backchannel-logout`], backchannel_logout_initiators: { mode: 'custom', selected_initiators: ['idp-logout'] }, ...settings },
    });
    expect(res.status).toBe(201);
    return rp;
  }

  async function universalLogout(sub: string): Promise<void> {
    const token = await idp.sign({ audience: `${base}/oauth/global-token-revocation/connection/acme-okta` });
    const res = await fetch(`${base}/oauth/global-token-revocation/connection/acme-okta`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub_id: { format: 'iss_sub', iss: idp.issuer, sub } }),
    });
    expect(res.status).toBe(204);
  }

  /** The outcome logs of `clientId`'s deliveries once there are `n`; each a 2xx. */
  async function succeeded(clientId: string, n: number, rp: ExpressRp): Promise<void> {
    const logs = await pollUntil(
      () => p.gw.dataSource.query(`SELECT type, data FROM log_events WHERE client_id = $1 AND type LIKE 'oidc_backchannel%'`, [clientId]),
      (rows) => rows.length >= n,
      { timeoutMs: 15000, what: `the delivery outcomes of ${clientId} (app output: ${rp.output.join('')})` },
    );
    expect(logs.map((l: { type: string }) => l.type)).toEqual(Array(n).fill('oidc_backchannel_logout_succeeded'));
    for (const l of logs) {
      expect(l.data.details.response.statusCode).toBeGreaterThanOrEqual(200);
      expect(l.data.details.response.statusCode).toBeLessThan(300);
    }
  }

  it('accepts our RS256 logout token with sid (2xx), records the logout of that sid and sub, and takes the session for logged out', async () => {
    const rp = await expressApp('express-app', {});
    const ann = await seedUser(p.gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub: '00uAnn', sessions: 1, clientIds: ['express-app'] });

    await universalLogout('00uAnn');
    await succeeded('express-app', 1, rp);

    expect(await rp.store()).toEqual([`${base}/|${ann.sessionIds[0]}`, `${base}/|${ann.userId}`].sort());
    expect(await rp.loggedOut({ sid: ann.sessionIds[0], sub: ann.userId })).toBe(true);
    expect(await rp.loggedOut({ sid: 'another-session', sub: 'user|someone-else' })).toBe(false);
  });

  it('configured for ES256, accepts our ES256 sub-only token (no sid) and takes every session of that user for logged out', async () => {
    const rp = await expressApp('express-es256', { backchannel_logout_signing_alg: 'ES256', backchannel_logout_session_required: false }, 'ES256');
    const bob = await seedUser(p.gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub: '00uBob', sessions: 3, clientIds: ['express-es256'] });

    await universalLogout('00uBob');
    await succeeded('express-es256', 1, rp);
    const [delivery] = await p.gw.dataSource.query(`SELECT session_id FROM backchannel_deliveries WHERE client_id = 'express-es256'`);
    expect(delivery).toEqual({ session_id: null });

    // Only the user was recorded: no sid came.
    expect(await rp.store()).toEqual([`${base}/|${bob.userId}`]);
    for (const sid of bob.sessionIds) expect(await rp.loggedOut({ sid, sub: bob.userId })).toBe(true);
    expect(await rp.loggedOut({ sid: bob.sessionIds[0], sub: 'user|someone-else' })).toBe(false);
  });

  it('configured for its default RS256, refuses an ES256 token (400), so the algorithm setting is what makes it work', async () => {
    const rp = await expressApp('express-default-alg', { backchannel_logout_signing_alg: 'ES256' });
    await seedUser(p.gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub: '00uCat', sessions: 1, clientIds: ['express-default-alg'] });

    await universalLogout('00uCat');
    const [failed] = await pollUntil(
      () => p.gw.dataSource.query(`SELECT data FROM log_events WHERE client_id = 'express-default-alg' AND type = 'oidc_backchannel_logout_failed'`),
      (rows) => rows.length === 1,
      { timeoutMs: 15000, what: `the refused delivery (app output: ${rp.output.join('')})` },
    );
    expect(failed.data.details.response.statusCode).toBe(400);
    expect(await rp.store()).toEqual([]);
  });
});
