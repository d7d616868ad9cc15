import { INestApplication } from '@nestjs/common';
import { Topics, prefixed } from '@ulo/contracts';
import { OutboxRelay, startConsumerApp } from '@ulo/messaging';
import { FakeIdp, TEST_MANAGEMENT_TOKEN, pollUntil, gatewayTestConfig, testConfig, uniqueSuffix } from '@ulo/testing';
import { SessionTerminatorModule } from '../../session-terminator/src/session-terminator.module';
import { createGateway } from '../src/gateway.app';
import { RunningGateway, startGateway } from './gateway.harness';
import { seedUser } from './revocation.fixtures';

/** Ports where nothing listens: a broker and a database that are down. */
const DEAD_KAFKA = '127.0.0.1:1';
const DEAD_DATABASE = 'postgres://postgres@127.0.0.1:1/universal_logout';

async function getJson(url: string): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** SPEC §8: every app starts and answers without Kafka or PostgreSQL, and says so on /health/ready. */
describe('with a dependency down', () => {
  describe('the gateway without Kafka', () => {
    let gw: RunningGateway;
    let idp: FakeIdp;

    beforeAll(async () => {
      idp = await FakeIdp.start();
      gw = await startGateway({
        KAFKA_BROKERS: DEAD_KAFKA,
        KAFKA_TOPIC_PREFIX: `${testConfig().kafka.topicPrefix}nokafka${uniqueSuffix()}.`,
        PUBLIC_BASE_URL: 'https://logout.example.com',
      });
    });
    afterAll(async () => {
      await gw?.close();
      await idp?.close();
    });

    it('listens, is live and ready (Kafka reported down, not fatal)', async () => {
      expect((await getJson(`${gw.baseUrl}/health/live`)).status).toBe(200);
      const ready = await getJson(`${gw.baseUrl}/health/ready`);
      expect(ready.status).toBe(200);
      expect(ready.body.checks.database).toEqual({ status: 'up' });
      expect(ready.body.checks.kafka).toMatchObject({ status: 'down', fatal: false });
    });

    it('accepts a logout with 204 and keeps its logout-requested event in the outbox', async () => {
      const created = await gw.api('POST', '/api/v2/connections', {
        name: 'acme-okta',
        strategy: 'okta',
        options: { issuer: idp.issuer, client_id: idp.clientId },
      });
      expect(created.status).toBe(201);
      const user = await seedUser(gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub: '00u-no-kafka' });
      const token = await idp.sign({ audience: 'https://logout.example.com/oauth/global-token-revocation/connection/acme-okta' });

      const res = await fetch(`${gw.baseUrl}/oauth/global-token-revocation/connection/acme-okta`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ sub_id: { format: 'iss_sub', iss: idp.issuer, sub: '00u-no-kafka' } }),
      });
      expect(res.status).toBe(204);

      // The relay has tried to reach the broker and failed: the event waits for it.
      const relay = gw.app.get(OutboxRelay);
      await pollUntil(async () => relay.problem, (p) => p?.startsWith('Kafka unreachable') ?? false, {
        timeoutMs: 45_000,
        intervalMs: 200,
        what: 'the relay to have failed to reach Kafka',
      });
      const [request] = await gw.dataSource.query(`SELECT id, user_ids FROM logout_requests`);
      expect(request.user_ids).toEqual([user.userId]);
      const waiting: { message_key: string; value: string }[] = await gw.dataSource.query(
        `SELECT message_key, value FROM outbox WHERE topic = $1`,
        [prefixed(gw.config.kafka.topicPrefix, Topics.logoutRequested)],
      );
      expect(waiting).toHaveLength(1);
      expect(waiting[0].message_key).toBe(user.userId);
      expect(JSON.parse(waiting[0].value)).toMatchObject({ correlationId: request.id, payload: { requestId: request.id, userIds: [user.userId] } });
      const ready = await getJson(`${gw.baseUrl}/health/ready`);
      expect(ready.status).toBe(200);
      expect(ready.body.checks.kafka).toMatchObject({ status: 'down', error: expect.stringMatching(/^Kafka unreachable/) });
    }, 60_000);
  });

  describe('the gateway without PostgreSQL', () => {
    let app: INestApplication;
    let baseUrl: string;

    beforeAll(async () => {
      app = await createGateway(gatewayTestConfig({ DATABASE_URL: DEAD_DATABASE, PUBLIC_BASE_URL: 'https://logout.example.com' }));
      await app.listen(0, '127.0.0.1');
      baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    });
    afterAll(async () => app?.close());

    it('is live but not ready, naming the database', async () => {
      expect((await getJson(`${baseUrl}/health/live`)).status).toBe(200);
      const ready = await getJson(`${baseUrl}/health/ready`);
      expect(ready.status).toBe(503);
      expect(ready.body.checks.database).toMatchObject({ status: 'down', error: expect.any(String) });
    });

    it('answers a revocation request 503 with Retry-After', async () => {
      const idp = await FakeIdp.start();
      try {
        const token = await idp.sign({ audience: 'https://logout.example.com/oauth/global-token-revocation/connection/acme-okta' });
        const res = await fetch(`${baseUrl}/oauth/global-token-revocation/connection/acme-okta`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ sub_id: { format: 'iss_sub', iss: idp.issuer, sub: '00u-no-database' } }),
        });
        expect(res.status).toBe(503);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await res.json()).toMatchObject({ error: 'temporarily_unavailable' });
      } finally {
        await idp.close();
      }
    });

    it('answers the Management API 503 with Retry-After, not 500', async () => {
      const res = await fetch(`${baseUrl}/api/v2/connections`, { headers: { authorization: `Bearer ${TEST_MANAGEMENT_TOKEN}` } });
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      // What does not depend on the database keeps its own answer.
      expect((await fetch(`${baseUrl}/api/v2/connections`)).status).toBe(401);
    });
  });

  it('a consumer app without Kafka and PostgreSQL starts, is live, not ready for both, and closes', async () => {
    const config = testConfig({ KAFKA_BROKERS: DEAD_KAFKA, DATABASE_URL: DEAD_DATABASE, HEALTH_PORT: '0' });
    const started = Date.now();
    const { app, health } = await startConsumerApp('session-terminator', SessionTerminatorModule.forRoot(config), config);
    expect(Date.now() - started).toBeLessThan(15_000);
    let closed = false;
    try {
      const base = `http://127.0.0.1:${health.port}`;
      expect((await getJson(`${base}/health/live`)).status).toBe(200);
      const ready = await getJson(`${base}/health/ready`);
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({
        status: 'error',
        checks: { database: { status: 'down', error: expect.any(String) }, kafka: { status: 'down', error: expect.any(String) } },
      });

      const closing = Date.now();
      await app.close();
      closed = true;
      expect(Date.now() - closing).toBeLessThan(15_000);
      // The health port closed with the app.
      await expect(fetch(`${base}/health/live`)).rejects.toThrow();
    } finally {
      if (!closed) await app.close();
    }
  }, 60_000);
});
