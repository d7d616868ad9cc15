import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { TEST_MANAGEMENT_TOKEN } from '@ulo/testing';
import { RunningPipeline, startPipeline } from './support/pipeline';

/**
 * `npm run demo` against a running pipeline, as a newcomer runs it against `npm start`: it plays
 * Okta and three applications, sends one Universal Logout and tells what happened. Runs the
 * compiled script (npm test builds first).
 */
describe('npm run demo', () => {
  let p: RunningPipeline;

  beforeAll(async () => {
    // The product's default back-off (1 s base), as npm start runs it: Billing fails twice first.
    p = await startPipeline();
  });
  afterAll(async () => p.close());

  it('creates its connection, applications and user, logs the user out everywhere and tells each step', async () => {
    const root = join(__dirname, '..');
    const { MANAGEMENT_API_TOKENS: _tokens, ...env } = process.env;
    const child = spawn(process.execPath, [join(root, 'scripts/run-node.js'), 'scripts/demo'], {
      cwd: root,
      env: { ...env, DEMO_GATEWAY_URL: p.gw.baseUrl, MANAGEMENT_API_TOKEN: TEST_MANAGEMENT_TOKEN, DEMO_TIMEOUT_S: '45' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));

    // The output in the failure message when it did not go through.
    expect(`exit ${code}\n${out}`).toMatch(/^exit 0\n/);
    const lines = out.split('\n').map((l) => l.replace(/^\[ *[\d.]+ s\] /, ''));
    expect(lines).toContainEqual('the gateway answered 204: the logout is durably accepted');
    expect(lines).toContainEqual(expect.stringMatching(/^step sessions: 2 revoked, \d+ ms after acceptance$/));
    expect(lines).toContainEqual(expect.stringMatching(/^step refresh tokens: 2 revoked, \d+ ms after acceptance$/));
    expect(lines).toContainEqual(expect.stringMatching(/^Demo Billing: \d+ attempts so far, last error "the application answered 503": retried with backoff$/));
    for (const app of ['Portal', 'Reports']) expect(lines).toContainEqual(`Demo ${app}: 2 of 2 back-channel deliveries succeeded in 2 attempts`);
    expect(lines).toContainEqual('Demo Billing: 2 of 2 back-channel deliveries succeeded in 4 attempts');
    expect(lines.filter((l) => /^(Portal|Reports|Billing): logout token RS256, verified with the JWKS: sub .*, sid ses_/.test(l))).toHaveLength(2 + 2 + 4);
    expect(lines).toContainEqual('done: every session and refresh token revoked, 6 logout tokens delivered');

    const id = /logout request ([\w-]+)/.exec(out)![1];
    expect(lines).toContainEqual(`logout request ${id}; watch it live: ${p.gw.baseUrl}/console/#/logouts/${id}`);
    expect(lines).toContainEqual(`its timeline in the console: ${p.gw.baseUrl}/console/#/logouts/${id} (sign in with the Management API token)`);
    const view = await p.gw.api('GET', `/api/v2/logout-requests/${id}`);
    expect(view.body).toMatchObject({ status: 'completed', backchannel: { count: 6, by_status: { succeeded: 6 } } });
  });
});
