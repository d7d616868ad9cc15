import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, Page, chromium } from 'playwright-core';
import { FakeIdp, RpReceiver, TEST_MANAGEMENT_TOKEN, pollUntil } from '@ulo/testing';
import { seedUser } from '../apps/gateway/test/revocation.fixtures';
import { findChromium, outputFolder } from './support/browser';
import { RunningPipeline, startPipeline } from './support/pipeline';

const executablePath = findChromium();
if (!executablePath && process.env.CI) throw new Error('no Chromium for the console test: run bash scripts/install-chromium.sh (.ci/run does)');
if (!executablePath) console.warn('console test skipped: no Chromium found (bash scripts/install-chromium.sh installs Debian\'s, or set CHROMIUM_PATH)');
const describeInBrowser = executablePath ? describe : describe.skip;

/**
 * The operator console (/console) in a real headless Chromium against the real pipeline: an
 * operator signs in with a token, watches a Universal Logout arrive, opens its timeline, replays a
 * parked delivery, pauses a log stream, copies a revocation endpoint and rotates a key. Each page is
 * saved as a screenshot under test-output/console/.
 */
describeInBrowser('operator console in a browser', () => {
  let p: RunningPipeline;
  let idp: FakeIdp;
  let healthy: RpReceiver;
  let broken: RpReceiver;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let userId = '';
  const shots = outputFolder('console');
  /** Saves the page as it is, after checking that every field on it has a label a screen reader can say. */
  const shot = async (name: string) => {
    const unlabelled = await page.evaluate(
      "[...document.querySelectorAll('input, select, textarea')].filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map((e) => e.outerHTML)",
    );
    expect(unlabelled).toEqual([]);
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    const consoleDir = join(__dirname, '..', 'dist', 'console');
    if (!existsSync(join(consoleDir, 'index.html'))) throw new Error(`no console build in ${consoleDir}: npm run build (npm test does)`);
    idp = await FakeIdp.start();
    // Retries every 100-200 ms for 2 s, then parked.
    p = await startPipeline({ BACKCHANNEL_RETRY_BASE_MS: '100', BACKCHANNEL_RETRY_MAX_DELAY_MS: '200', BACKCHANNEL_RETRY_WINDOW_SECONDS: '2', CONSOLE_DIR: consoleDir });
    healthy = await RpReceiver.start(() => 200);
    broken = await RpReceiver.start(() => 500);
    expect((await p.gw.api('POST', '/api/v2/connections', { name: 'acme-okta', strategy: 'okta', options: { issuer: idp.issuer, client_id: idp.clientId } })).status).toBe(201);
    for (const [clientId, name, rp] of [['portal', 'Portal', healthy], ['billing', 'Billing', broken]] as const) {
      const res = await p.gw.api('POST', '/api/v2/clients', {
        client_id: clientId,
        name,
        oidc_logout: { backchannel_logout_urls: [rp.url], backchannel_logout_initiators: { mode: 'all' } },
      });
      expect(res.status).toBe(201);
    }
    userId = (
      await seedUser(p.gw.dataSource, {
        connection: 'acme-okta',
        issuer: idp.issuer,
        sub: '00uJane',
        email: 'jane.console@example.com',
        emailNormalized: 'jane.console@example.com',
        sessions: 1,
        refreshTokens: 1,
        clientIds: ['portal', 'billing'],
      })
    ).userId;
    browser = await chromium.launch({ executablePath: executablePath!, headless: true });
    context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: p.gw.baseUrl });
    page = await context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await healthy?.close();
    await broken?.close();
    await p?.close();
    await idp?.close();
  });

  async function universalLogout(sub: string): Promise<void> {
    const audience = `${p.gw.config.publicBaseUrl}/oauth/global-token-revocation/connection/acme-okta`;
    const res = await fetch(`${p.gw.baseUrl}/oauth/global-token-revocation/connection/acme-okta`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await idp.sign({ audience })}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub_id: { format: 'iss_sub', iss: idp.issuer, sub } }),
    });
    expect(res.status).toBe(204);
  }

  it('is served with a policy that keeps the token on this origin', async () => {
    const res = await fetch(`${p.gw.baseUrl}/console/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toContain('<script type="module" src="console.js"></script>');
  });

  it('refuses a wrong token in words, then signs in with a Management API token', async () => {
    await page.goto(`${p.gw.baseUrl}/console/`);
    await page.getByLabel('Management API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('The gateway did not accept this token');
    await shot('sign-in');

    // By keyboard: the field, then Enter submits.
    await page.getByLabel('Management API token').fill(TEST_MANAGEMENT_TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Logouts', level: 1 }).waitFor();
    await page.getByText('No logout requests yet.').waitFor();
    // Kept for this tab only.
    // (Expressions as text: they run in the page, and this project compiles without the DOM's types.)
    expect(await page.evaluate("[sessionStorage.getItem('ulo.console.token'), localStorage.length]")).toEqual([TEST_MANAGEMENT_TOKEN, 0]);
  });

  let requestId = '';

  it('shows a logout that arrives, live, and filters by email', async () => {
    await universalLogout('00uJane');
    const row = page.locator('table.logouts tbody tr[data-request-id]');
    await row.first().waitFor({ timeout: 10_000 });
    requestId = (await row.first().getAttribute('data-request-id'))!;
    const list = await p.gw.api('GET', `/api/v2/logout-requests?user_id=${encodeURIComponent(userId)}`);
    expect(list.body.logout_requests.map((r: { id: string }) => r.id)).toEqual([requestId]);
    await expect(row.first().textContent()).resolves.toContain('acme-okta');
    await expect(row.first().textContent()).resolves.toContain(userId);
    // The chart counts it once the next poll has run (every 5 s).
    await page.locator('.legend li', { hasText: 'Accepted: 1' }).waitFor({ timeout: 10_000 });

    await page.getByLabel('User ID or email').fill('someone.else@example.com');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('No logout requests match these filters.').waitFor();
    await page.getByLabel('User ID or email').fill('Jane.Console@example.com');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator(`tr[data-request-id="${requestId}"]`).waitFor();
    await shot('logouts');
  });

  it("opens the logout's timeline: each step, the healthy application delivered, the broken one parked after its retries", async () => {
    await page.locator(`tr[data-request-id="${requestId}"]`).getByRole('link', { name: /Timeline/ }).click();
    await page.getByRole('heading', { name: /Sessions terminated/ }).waitFor();
    await page.getByRole('heading', { name: /Refresh tokens revoked/ }).waitFor();
    const billing = page.locator('li.event', { has: page.getByRole('heading', { name: /^Billing/ }) });
    await billing.locator('h3 .badge-parked').waitFor({ timeout: 20_000 });
    const portal = page.locator('li.event', { has: page.getByRole('heading', { name: /^Portal/ }) });
    await expect(portal.textContent()).resolves.toContain('1 of 1 logout token delivered in 1 attempt');
    const billingText = (await billing.textContent())!;
    expect(billingText).toMatch(/0 of 1 logout token delivered in \d+ attempts \(\d+ retries\), 1 parked after its last attempt/);
    expect(billingText).toContain('the application answered 500');
    expect(await page.locator('ol.timeline h3').allTextContents()).toEqual([
      'Accepted',
      expect.stringMatching(/^(Sessions terminated|Refresh tokens revoked)$/),
      expect.stringMatching(/^(Sessions terminated|Refresh tokens revoked)$/),
      'Sessions and refresh tokens done',
      'Portal succeeded',
      'Billing parked',
    ]);
    await shot('timeline');
  });

  it('replays the parked delivery from the Deliveries page: a fresh token reaches the application', async () => {
    await page.getByRole('link', { name: 'Deliveries', exact: true }).click();
    const parked = page.locator('table.deliveries tbody tr[data-delivery-id]');
    await parked.first().waitFor();
    expect(await parked.count()).toBe(1);
    const deliveryId = (await parked.first().getAttribute('data-delivery-id'))!;
    await shot('deliveries');

    const callsBefore = broken.received.length;
    broken.answer(() => 200);
    await parked.first().getByRole('button', { name: 'Replay' }).click();
    await page.getByRole('status').filter({ hasText: 'Replayed the delivery to billing: pending' }).first().waitFor();
    await pollUntil(() => p.gw.api('GET', `/api/v2/backchannel-deliveries/${deliveryId}`), (r) => r.body.status === 'succeeded', {
      what: 'the replayed delivery to succeed',
    });
    expect(broken.received.length).toBe(callsBefore + 1);
    // Once over, the parked list no longer holds it.
    await page.getByText('No parked deliveries.').waitFor({ timeout: 10_000 });
  });

  it('pauses and resumes a log stream', async () => {
    const created = await p.gw.api('POST', '/api/v2/log-streams', { name: 'SIEM', type: 'http', sink: { httpEndpoint: `${healthy.url}/logs` } });
    expect(created.status).toBe(201);
    await page.getByRole('link', { name: 'Log streams', exact: true }).click();
    const card = page.locator(`article[data-stream-id="${created.body.id}"]`);
    await card.locator('.badge-active').waitFor();
    await expect(card.textContent()).resolves.toContain(`JSONARRAY to ${healthy.url}/logs`);
    await card.getByRole('button', { name: 'Pause' }).click();
    await card.getByRole('status').filter({ hasText: 'Paused' }).waitFor();
    await card.locator('.badge-paused').waitFor();
    expect((await p.gw.api('GET', `/api/v2/log-streams/${created.body.id}`)).body.status).toBe('paused');
    await shot('log-streams');
    await card.getByRole('button', { name: 'Resume' }).click();
    await card.locator('.badge-active').waitFor();
    expect((await p.gw.api('GET', `/api/v2/log-streams/${created.body.id}`)).body.status).toBe('active');
  });

  it('copies a connection\'s revocation endpoint and rotates the ES256 key after a confirmation', async () => {
    await page.getByRole('link', { name: 'Connections', exact: true }).click();
    const endpoint = `${p.gw.config.publicBaseUrl}/oauth/global-token-revocation/connection/acme-okta`;
    await expect(page.getByLabel('Revocation endpoint of acme-okta').inputValue()).resolves.toBe(endpoint);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Copied', { exact: true }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(endpoint);
    await page.locator('td', { hasText: `${healthy.url}` }).waitFor();

    const currentEs256 = async () => ((await p.gw.api('GET', '/api/v2/keys/signing')).body as { alg: string; status: string; kid: string }[]).find((k) => k.alg === 'ES256' && k.status === 'current')!.kid;
    const before = await currentEs256();
    await page.getByRole('button', { name: 'Rotate ES256' }).click();
    await page.getByRole('button', { name: 'Yes, rotate ES256' }).click();
    await page.getByRole('status').filter({ hasText: 'New ES256 key current' }).waitFor();
    const after = await currentEs256();
    expect(after).not.toBe(before);
    await page.locator('tr', { hasText: after }).locator('.badge-current').waitFor();
    await page.locator('tr', { hasText: before }).locator('.badge-previous').waitFor();
    await shot('connections');
  });

  it('asks for a new token when the gateway stops accepting it', async () => {
    await page.evaluate("sessionStorage.setItem('ulo.console.token', 'revoked-token')");
    await page.getByRole('link', { name: 'Logouts', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'no longer accepts that token' }).waitFor();
    await expect(page.getByLabel('Management API token').isVisible()).resolves.toBe(true);
  });
});
