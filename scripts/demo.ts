/**
 * npm run demo — watch one Universal Logout, against a running `npm start`.
 *
 * Plays Okta and three applications on 127.0.0.1: a fake Okta (discovery, JWKS, signed Global Token
 * Revocation requests), and three back-channel logout receivers: Portal (answers at once), Reports
 * (answers after 1.5 s) and Billing (answers 503 to its first two calls, then 200). Through the
 * Management API it creates a connection for that Okta, the three applications, a user with an
 * identity at the connection, two sessions at every application and two refresh tokens; then sends
 * one signed Universal Logout and prints what happens step by step, read from
 * GET /api/v2/logout-requests/{id}, until every delivery is over. What it created stays, so that it
 * can be looked at afterwards.
 *
 * Environment:
 *   DEMO_GATEWAY_URL      the gateway                 PUBLIC_BASE_URL, else http://127.0.0.1:3000
 *   MANAGEMENT_API_TOKEN  a Management API token      the first of MANAGEMENT_API_TOKENS, else the
 *                                                     one `npm start` wrote for its run (see README)
 *   DEMO_TIMEOUT_S        how long to watch           60
 * The gateway and the dispatcher must accept loopback URLs (`ALLOW_PRIVATE_NETWORK_URLS=true`, which
 * `npm start` sets unless told otherwise). Exits 0 when the logout went through, 1 otherwise.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { BenchIdp } from './bench/fake-idp';

interface Receiver {
  name: string;
  clientId: string;
  describe: string;
  url: string;
  server: Server;
  calls: number;
}

type Answer = { status: number; afterMs: number };

const started = Date.now();
const say = (line: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);

function managementToken(): string {
  if (process.env.MANAGEMENT_API_TOKEN) return process.env.MANAGEMENT_API_TOKEN;
  const first = process.env.MANAGEMENT_API_TOKENS?.split(',')[0]?.trim();
  if (first) return first;
  const file = join(process.env.ULO_CACHE_DIR ?? join(homedir(), '.cache', 'universal-logout'), 'dev-management-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new Error('no Management API token: set MANAGEMENT_API_TOKEN (npm start prints the one it accepts)');
}

class Gateway {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  async api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }
}

/** A back-channel logout endpoint that verifies each token against the gateway's JWKS and prints it. */
async function receiver(name: string, clientId: string, describe: string, answer: (call: number) => Answer, issuer: string, jwksUrl: string): Promise<Receiver> {
  const jwks = createRemoteJWKSet(new URL(jwksUrl));
  const r: Receiver = { name, clientId, describe, url: '', server: createServer(), calls: 0 };
  r.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const call = ++r.calls;
      const token = new URLSearchParams(Buffer.concat(chunks).toString()).get('logout_token') ?? '';
      const { status, afterMs } = answer(call);
      void jwtVerify(token, jwks, { issuer, audience: clientId, typ: 'logout+jwt' })
        .then(({ payload, protectedHeader }) => {
          const sid = payload.sid ? `sid ${payload.sid as string}` : 'no sid (all sessions of the user)';
          say(`${name}: logout token ${protectedHeader.alg}, verified with the JWKS: sub ${payload.sub}, ${sid}; answering ${status}${afterMs ? ` after ${afterMs} ms` : ''}`);
        })
        .catch((err: Error) => say(`${name}: a logout token that does not verify (${err.message})`));
      setTimeout(() => {
        res.statusCode = status;
        res.end();
      }, afterMs);
    });
  });
  await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}/backchannel-logout`;
  return r;
}

interface RequestView {
  id: string;
  status: string;
  steps: Record<string, { state: string; count: number | null; at: string | null }>;
  completed_at: string | null;
  backchannel: {
    count: number;
    by_status: Record<string, number>;
    applications: { client_id: string; client_name: string | null; count: number; by_status: Record<string, number>; attempts: number; last_error: string | null }[];
  };
}

const since = (iso: string | null, t0: number) => (iso ? `${Date.parse(iso) - t0} ms after acceptance` : '');

async function main(): Promise<number> {
  const gatewayUrl = (process.env.DEMO_GATEWAY_URL ?? process.env.PUBLIC_BASE_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
  const timeoutMs = Number(process.env.DEMO_TIMEOUT_S ?? 60) * 1000;
  const gw = new Gateway(gatewayUrl, managementToken());
  const tag = randomBytes(3).toString('hex');

  const ready = await fetch(`${gatewayUrl}/health/ready`).catch(() => null);
  if (!ready || ready.status !== 200) throw new Error(`the gateway at ${gatewayUrl} is not ready: start it with \`npm start\` (or set DEMO_GATEWAY_URL)`);
  const discovery = (await (await fetch(`${gatewayUrl}/.well-known/openid-configuration`)).json()) as { issuer: string; jwks_uri: string; global_token_revocation_endpoint: string };
  say(`gateway ${gatewayUrl}: issuer ${discovery.issuer}`);

  const okta = await BenchIdp.start();
  const connection = `demo-okta-${tag}`;
  await gw.api('POST', '/api/v2/connections', { name: connection, strategy: 'okta', options: { issuer: okta.issuer, client_id: okta.clientId } });
  // The endpoint as the gateway names it (PUBLIC_BASE_URL: the token's audience), reached where it listens.
  const endpoint = discovery.global_token_revocation_endpoint.replace('{connectionName}', connection);
  const target = `${gatewayUrl}${new URL(endpoint).pathname}`;
  const jwksUrl = `${gatewayUrl}${new URL(discovery.jwks_uri).pathname}`;
  say(`Okta (played here) at ${okta.issuer}; connection "${connection}" created; its revocation endpoint: ${endpoint}`);

  const receivers = [
    await receiver('Portal', `demo-portal-${tag}`, 'answers at once', () => ({ status: 200, afterMs: 0 }), discovery.issuer, jwksUrl),
    await receiver('Reports', `demo-reports-${tag}`, 'answers after 1.5 s', () => ({ status: 200, afterMs: 1500 }), discovery.issuer, jwksUrl),
    await receiver('Billing', `demo-billing-${tag}`, 'answers 503 to its first two calls, then 200', (call) => ({ status: call <= 2 ? 503 : 200, afterMs: 0 }), discovery.issuer, jwksUrl),
  ];
  try {
    for (const r of receivers) {
      await gw.api('POST', '/api/v2/clients', {
        client_id: r.clientId,
        name: `Demo ${r.name}`,
        oidc_logout: { backchannel_logout_urls: [r.url], backchannel_logout_initiators: { mode: 'all' } },
      });
      say(`application ${r.name} (${r.clientId}) with its back-channel logout URL ${r.url}: ${r.describe}`);
    }
    const sub = `00u${tag}demo`;
    const user = await gw.api<{ user_id: string }>('POST', '/api/v2/users', {
      email: `jane.${tag}@example.com`,
      identities: [{ connection, provider_user_id: sub, issuer: okta.issuer }],
    });
    const clients = receivers.map((r) => ({ client_id: r.clientId }));
    const sessions: string[] = [];
    for (let i = 0; i < 2; i++) sessions.push((await gw.api<{ id: string }>('POST', '/api/v2/sessions', { user_id: user.user_id, clients })).id);
    for (const session of sessions) await gw.api('POST', '/api/v2/refresh-tokens', { user_id: user.user_id, client_id: receivers[0].clientId, session_id: session });
    say(`user ${user.user_id} (jane.${tag}@example.com, Okta sub ${sub}): sessions ${sessions.join(', ')} at all three applications, and 2 refresh tokens`);

    const token = await okta.sign(endpoint);
    say(`Okta sends a Universal Logout for sub ${sub}: POST ${endpoint}`);
    const res = await fetch(target, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub_id: { format: 'iss_sub', iss: okta.issuer, sub } }),
    });
    if (res.status !== 204) throw new Error(`the gateway answered ${res.status}: ${await res.text()}`);
    say('the gateway answered 204: the logout is durably accepted');

    const { logout_requests: found } = await gw.api<{ logout_requests: { id: string; accepted_at: string }[] }>(
      'GET',
      `/api/v2/logout-requests?user_id=${encodeURIComponent(user.user_id)}`,
    );
    const id = found[0].id;
    const acceptedAt = Date.parse(found[0].accepted_at);
    say(`logout request ${id}; watch it live: ${gatewayUrl}/console/#/logouts/${id}`);

    const told = new Set<string>();
    const tell = (key: string, line: string) => {
      if (told.has(key)) return;
      told.add(key);
      say(line);
    };
    const deadline = Date.now() + timeoutMs;
    let view: RequestView;
    for (;;) {
      view = await gw.api<RequestView>('GET', `/api/v2/logout-requests/${id}`);
      for (const [step, s] of Object.entries(view.steps)) {
        if (s.state === 'done') tell(`step ${step}`, `step ${step.replace('_', ' ')}: ${s.count} revoked, ${since(s.at, acceptedAt)}`);
      }
      if (view.completed_at) tell('completed', `sessions and refresh tokens done: the request is complete, ${since(view.completed_at, acceptedAt)}`);
      for (const app of view.backchannel.applications) {
        const name = app.client_name ?? app.client_id;
        if (app.last_error && (app.by_status.pending ?? 0) > 0) tell(`retry ${app.client_id} ${app.attempts}`, `${name}: ${app.attempts} attempts so far, last error "${app.last_error}": retried with backoff`);
        if (app.count > 0 && app.by_status.pending === 0) {
          tell(`done ${app.client_id}`, `${name}: ${app.by_status.succeeded} of ${app.count} back-channel deliveries succeeded in ${app.attempts} attempts`);
        }
      }
      const over = view.completed_at !== null && view.backchannel.count > 0 && view.backchannel.by_status.pending === 0;
      if (over || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const ok = view.completed_at !== null && view.backchannel.by_status.succeeded === view.backchannel.count && view.backchannel.count === 6;
    say(
      ok
        ? `done: every session and refresh token revoked, ${view.backchannel.count} logout tokens delivered`
        : `not done after ${timeoutMs / 1000} s: ${JSON.stringify({ status: view.status, steps: view.steps, deliveries: view.backchannel.by_status })}`,
    );
    say(`its timeline in the console: ${gatewayUrl}/console/#/logouts/${id} (sign in with the Management API token)`);
    say(`the whole story: GET ${gatewayUrl}/api/v2/logout-requests/${id} (Management API token required); the log: GET ${gatewayUrl}/api/v2/logs?user_id=${encodeURIComponent(user.user_id)}`);
    return ok ? 0 : 1;
  } finally {
    for (const r of receivers) {
      r.server.closeAllConnections();
      r.server.close();
    }
    await okta.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`demo: ${err.message}\n`);
    process.exit(1);
  },
);
