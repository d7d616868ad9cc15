import { spawn, ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { FakeIdp, pollUntil } from '@ulo/testing';
import { seedUser } from '../apps/gateway/test/revocation.fixtures';
import { RunningPipeline, startPipeline } from './support/pipeline';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Interop: a relying-party library no one here wrote accepts our logout token. If it needs more
 * from discovery or the token, the fix belongs on our side.
 */
describe("Back-Channel Logout into Auth0's express-openid-connect", () => {
  let p: RunningPipeline;
  let idp: FakeIdp;
  let rp: ChildProcess;
  let rpUrl: string;
  const output: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    idp = await FakeIdp.start();
    p = await startPipeline({ PORT: String(port), PUBLIC_BASE_URL: base });
    rp = spawn(process.execPath, [join(__dirname, 'interop/express-rp/server.js')], {
      env: { ...process.env, ISSUER_BASE_URL: base, CLIENT_ID: 'express-app' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    rp.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
    rp.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    const listening = await pollUntil(async () => /LISTENING (\d+)/.exec(output.join('')), (m) => m !== null, {
      what: 'the express app to listen',
    });
    rpUrl = `http://127.0.0.1:${listening![1]}`;
  });
  afterAll(async () => {
    rp?.kill();
    await p.close();
    await idp.close();
  });

  it('accepts our logout token (2xx) and records the logout of that sid and sub in its store', async () => {
    const base = p.gw.config.publicBaseUrl;
    expect((await p.gw.api('POST', '/api/v2/connections', { name: 'acme-okta', strategy: 'okta', options: { issuer: idp.issuer, client_id: idp.clientId } })).status).toBe(201);
    expect(
      (await p.gw.api('POST', '/api/v2/clients', {
        client_id: 'express-app',
        name: 'Express app',
        oidc_logout: { backchannel_logout_urls: [`${rpUrl}/backchannel-logout`], backchannel_logout_initiators: { mode: 'custom', selected_initiators: ['idp-logout'] } },
      })).status,
    ).toBe(201);
    const ann = await seedUser(p.gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub: '00uAnn', sessions: 1, clientIds: ['express-app'] });

    const token = await idp.sign({ audience: `${base}/oauth/global-token-revocation/connection/acme-okta` });
    const res = await fetch(`${base}/oauth/global-token-revocation/connection/acme-okta`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub_id: { format: 'iss_sub', iss: idp.issuer, sub: '00uAnn' } }),
    });
    expect(res.status).toBe(204);

    const logs = await pollUntil(
      () => p.gw.dataSource.query(`SELECT type, data FROM log_events WHERE client_id = 'express-app' AND type LIKE 'oidc_backchannel%'`),
      (rows) => rows.length > 0,
      { timeoutMs: 15000, what: `the delivery outcome (app output: ${output.join('')})` },
    );
    expect(logs.map((l: { type: string; data: { details: unknown } }) => [l.type, l.data.details])).toEqual([['oidc_backchannel_logout_succeeded', expect.anything()]]);
    expect(logs[0].data.details.response.statusCode).toBeGreaterThanOrEqual(200);
    expect(logs[0].data.details.response.statusCode).toBeLessThan(300);

    const stored = (await (await fetch(`${rpUrl}/_store`)).json()) as string[];
    expect(stored).toEqual([`${base}/|${ann.sessionIds[0]}`, `${base}/|${ann.userId}`].sort());
  });
});
