import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { AppProcess, pollUntil, testConfig, testEnv } from '@ulo/testing';
import { SigningKeyRepository } from '@ulo/persistence';
import { SigningKeyStore } from '@ulo/security';
import { RunningGateway, startGateway } from '../apps/gateway/test/gateway.harness';
import { LogReceiver } from '../apps/log-streamer/test/log-receiver';
import { RunningLogStreamer, publishLogEvents, startLogStreamer } from '../apps/log-streamer/test/log-streamer.harness';

const ROOT = join(__dirname, '..');
/** The secret testConfig gives every app of the run. */
const RUN_SECRET = 'test-key-encryption-secret';

/** A compiled command (`npm run build` first) with exactly this environment; its exit code and output. */
function run(entry: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts/run-node.js'), entry, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * SPEC §6 (secrets) and §7 against the real gateway, log-streamer, PostgreSQL and Kafka, with webhook
 * receivers on loopback: secrets stay where they were configured to go, kafka streams stay under
 * their prefix, sealed values are bound to their record, the secret can be rotated, and neither a
 * log nor an error message ever carries a credential.
 */
describe('hostile traffic: secrets', () => {
  const prefix = `${testConfig().kafka.topicPrefix}secrets${Date.now().toString(36)}.`;
  const streamTopics = `${prefix}sinks.`;
  let gw: RunningGateway;
  let streamer: RunningLogStreamer;
  const receivers: LogReceiver[] = [];
  /** No retry limit to speak of: a stream keeps failing (and retrying) while a test watches. */
  const streamerSettings = { KAFKA_TOPIC_PREFIX: prefix, LOG_STREAM_MAX_FAILURES: '100000', LOG_STREAM_RETRY_MAX_MS: '200' };

  const receiver = async () => {
    const r = await LogReceiver.start(200);
    receivers.push(r);
    return r;
  };
  const createStream = async (body: Record<string, unknown>) => {
    const res = await gw.api('POST', '/api/v2/log-streams', body);
    expect(res.status).toBe(201);
    return res.body as { id: string };
  };
  const streamOf = async (id: string) => (await gw.api('GET', `/api/v2/log-streams/${id}`)).body;
  const emit = (n: number) =>
    publishLogEvents(
      streamer.config,
      Array.from({ length: n }, (_, i) => ({ type: 'srrt' as const, description: `event ${i}`, user_id: `auth0|u${i}` })),
    );
  const auditEvents = async (): Promise<{ type: string; description: string; details: any }[]> =>
    (await gw.dataSource.query(`SELECT data FROM log_events WHERE type IN ('sapi', 'fapi') ORDER BY log_id`)).map((r: { data: unknown }) => r.data);

  beforeAll(async () => {
    // The gateway's own log events go to topics of their own prefix: the streams carry exactly what a test publishes.
    gw = await startGateway({ KAFKA_TOPIC_PREFIX: `${prefix}admin.`, LOG_STREAM_KAFKA_TOPIC_PREFIX: streamTopics });
    streamer = await startLogStreamer(streamerSettings);
  });
  afterEach(async () => {
    const list = await gw.api('GET', '/api/v2/log-streams?take=100');
    for (const s of list.body.log_streams) await gw.api('DELETE', `/api/v2/log-streams/${s.id}`);
    for (const r of receivers.splice(0)) await r.close();
  });
  afterAll(async () => {
    await streamer.close();
    await gw.close();
  });

  it('refuses to move a stream without its credentials: they never reach the new host, an answer or a log', async () => {
    const [siem, attacker] = [await receiver(), await receiver()];
    const secret = 'Bearer siem-s3cret-token';
    const stream = await createStream({
      name: 'siem',
      type: 'http',
      sink: { httpEndpoint: siem.url, httpAuthorization: secret, httpCustomHeaders: [{ header: 'X-Api-Key', value: 'k-siem-123' }] },
    });

    for (const change of [{ httpEndpoint: attacker.url }, { httpEndpoint: attacker.url, httpAuthorization: 'Bearer mine' }]) {
      const moved = await gw.api('PATCH', `/api/v2/log-streams/${stream.id}`, { sink: change });
      expect(moved.status).toBe(400);
      expect(moved.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: expect.stringMatching(/^changing sink.httpEndpoint sends the stream's credentials elsewhere: give sink\.http/),
      });
    }
    const events = await emit(3);
    await pollUntil(async () => siem.distinctLogIds.size, (n) => n === 3, { what: 'the events at the configured receiver' });
    for (const req of siem.requests) expect(req.headers).toMatchObject({ authorization: secret, 'x-api-key': 'k-siem-123' });
    expect(siem.logIds.sort()).toEqual(events.map((e) => e.log_id).sort());
    expect(attacker.requests).toHaveLength(0);

    // Given again, the stream moves: the new host gets the new credentials and never the old ones.
    const given = await gw.api('PATCH', `/api/v2/log-streams/${stream.id}`, {
      sink: { httpEndpoint: attacker.url, httpAuthorization: 'Bearer for-the-new-host', httpCustomHeaders: [] },
    });
    expect(given.status).toBe(200);
    await emit(2);
    await pollUntil(async () => attacker.distinctLogIds.size, (n) => n === 2, { what: 'the events at the new receiver' });
    for (const req of attacker.requests) {
      expect(req.headers.authorization).toBe('Bearer for-the-new-host');
      expect(req.headers).not.toHaveProperty('x-api-key');
    }

    const shown = JSON.stringify([await streamOf(stream.id), (await gw.api('GET', '/api/v2/log-streams')).body, given.body, await auditEvents()]);
    for (const value of [secret, 'siem-s3cret', 'k-siem-123', 'for-the-new-host']) expect(shown).not.toContain(value);
    const refusals = (await auditEvents()).filter((e) => e.type === 'fapi' && e.details.request.path === `/api/v2/log-streams/${stream.id}`);
    expect(refusals).toHaveLength(2);
    expect(refusals[1].details.request.body).toEqual({ sink: { httpEndpoint: attacker.url, httpAuthorization: '[redacted]' } });
  });

  it('a sealed credential copied into another stream does not open there: that stream sends nothing', async () => {
    const [owner, thief] = [await receiver(), await receiver()];
    const a = await createStream({ name: 'owner', type: 'http', sink: { httpEndpoint: owner.url, httpAuthorization: 'Bearer owner-only' } });
    const b = await createStream({ name: 'thief', type: 'http', sink: { httpEndpoint: thief.url } });
    // Someone who can write the table, but does not hold SIGNING_KEY_ENCRYPTION_SECRET, copies the sealed value.
    await gw.dataSource.query(
      `UPDATE log_streams SET sink = sink || jsonb_build_object('httpAuthorizationSealed', (SELECT sink->'httpAuthorizationSealed' FROM log_streams WHERE id = $1)) WHERE id = $2`,
      [a.id, b.id],
    );
    await emit(2);
    await pollUntil(async () => owner.distinctLogIds.size, (n) => n === 2, { what: 'the owner stream' });
    expect(owner.requests.every((r) => r.headers.authorization === 'Bearer owner-only')).toBe(true);
    const failing = await pollUntil(() => streamOf(b.id), (s) => s.health.consecutive_failures >= 2, { what: 'the copied stream to fail' });
    expect(failing.health.last_errors[0].error).toMatch(/^the stream's Authorization cannot be used: the secret cannot be decrypted/);
    expect(thief.requests).toHaveLength(0);
  });

  it('keeps kafka streams under LOG_STREAM_KAFKA_TOPIC_PREFIX and creates no topic: a missing one is a failed delivery, retried until it exists', async () => {
    for (const topic of [`${prefix}admin.log-events`, `${prefix}log-events`, 'other-deployment.logout-requested.v1', `${prefix}elsewhere`]) {
      const res = await gw.api('POST', '/api/v2/log-streams', { name: 'k', type: 'kafka', sink: { topic } });
      expect({ topic, status: res.status }).toEqual({ topic, status: 400 });
    }
    const topic = `${streamTopics}missing`;
    const stream = await createStream({ name: 'k', type: 'kafka', sink: { topic } });
    const events = await emit(4);
    const failing = await pollUntil(() => streamOf(stream.id), (s) => s.health.consecutive_failures >= 3, { what: 'failed deliveries' });
    expect(failing.status).toBe('active');
    expect(failing.health.last_errors[0].error).toBe(
      `publishing to ${topic} failed: the topic does not exist; create it, or set LOG_STREAM_KAFKA_CREATE_TOPICS=true`,
    );
    const kafka = new Kafka({ brokers: streamer.config.kafka.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).not.toContain(topic);
      // The operator creates it: the next retry delivers everything that waited.
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      await pollUntil(() => streamOf(stream.id), (s) => s.health.delivered === 4 && s.health.lag === 0, { what: 'delivery once the topic exists' });
      const total = (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
      expect(total).toBe(events.length);
    } finally {
      await admin.disconnect();
    }
  });

  it('answers 400 to hostile Management API bodies, changes nothing and logs the refusal (no NUL in the log)', async () => {
    const before = (await gw.dataSource.query(`SELECT count(*)::int AS n FROM log_streams`))[0].n;
    const fapiBefore = (await auditEvents()).filter((e) => e.type === 'fapi').length;
    const raw = async (method: string, path: string, body: string) => {
      const res = await fetch(`${gw.baseUrl}${path}`, {
        method,
        headers: { authorization: 'Bearer test-management-token', 'content-type': 'application/json' },
        body,
      });
      return { status: res.status, body: (await res.json()) as { message: string } };
    };
    const cases: [string, string, RegExp][] = [
      ['POST', JSON.stringify({ name: 'a\u0000b', type: 'http', sink: { httpEndpoint: 'https://siem.example.com' } }), /^body.name must not contain a NUL character$/],
      ['POST', '{"name":"p","type":"http","sink":{"httpEndpoint":"https://siem.example.com"},"__proto__":{"status":"active"}}', /^body must not have a member named "__proto__"$/],
      ['POST', '{"name":"p","type":"http","sink":{"httpEndpoint":"https://siem.example.com","constructor":{"prototype":{}}}}', /^body.sink must not have a member named "constructor"$/],
      ['POST', `{"name":"deep","type":"http","sink":${'['.repeat(20000)}${']'.repeat(20000)}}`, /^the body must not nest deeper than 32 levels$/],
      ['POST', JSON.stringify({ name: 'h', type: 'http', sink: { httpEndpoint: 'https://siem.example.com', httpCustomHeaders: [{ header: 'X-A', value: 'v\u0000' }] } }), /^body.sink.httpCustomHeaders\[0\].value must not contain a NUL character$/],
    ];
    for (const [method, body, message] of cases) {
      const res = await raw(method, '/api/v2/log-streams', body);
      expect({ status: res.status, message: res.body.message }).toEqual({ status: 400, message: expect.stringMatching(message) });
    }
    expect((await gw.dataSource.query(`SELECT count(*)::int AS n FROM log_streams`))[0].n).toBe(before);
    const refusals = (await auditEvents()).filter((e) => e.type === 'fapi').slice(fapiBefore);
    expect(refusals).toHaveLength(cases.length);
    expect(refusals[0].details.request.body.name).toBe('a\ufffdb');
    expect(JSON.stringify(refusals)).not.toContain('\\u0000');
  });

  it('keeps credentials of query strings and URLs out of the audit log', async () => {
    const siem = await receiver();
    const created = await gw.api('POST', '/api/v2/log-streams', {
      name: 'qs',
      type: 'http',
      sink: { httpEndpoint: `${siem.url}?token=qs-s3cret-1&tenant=acme` },
    });
    expect(created.status).toBe(201);
    expect((await gw.api('DELETE', '/api/v2/log-streams/lst_none?access_token=qs-s3cret-2&api_key=qs-s3cret-3&x=1')).status).toBe(404);
    const events = await auditEvents();
    const sapi = events.find((e) => e.type === 'sapi' && e.details.response.body?.id === created.body.id)!;
    expect(sapi.details.request.body.sink.httpEndpoint).toBe(`${siem.url}?token=[redacted]&tenant=acme`);
    const fapi = events.find((e) => e.type === 'fapi' && e.details.request.path === '/api/v2/log-streams/lst_none')!;
    expect(fapi.details.request.query).toEqual({ access_token: '[redacted]', api_key: '[redacted]', x: '1' });
    expect(JSON.stringify(events)).not.toContain('qs-s3cret');
  });

  it('stops an app on a rejected configuration value, naming the variable and never the value', async () => {
    const cases = [
      ['DATABASE_URL', 'mysql://admin:hunter2-pw@db.example.com/ulo'],
      ['SIGNING_KEY_ENCRYPTION_SECRET', 'short-s3cret'],
      ['LOG_STREAM_KAFKA_TOPIC_PREFIX', 'bad prefix s3cret'],
    ];
    // With every other variable valid, so that the one under test is the first one refused.
    const valid = { SIGNING_KEY_ENCRYPTION_SECRET: 'a valid key-encryption secret' };
    const apps = cases.map(([name, value]) => AppProcess.start('log-streamer', { ...valid, [name]: value }));
    for (const [i, [name, value]] of cases.entries()) {
      expect(await apps[i].exited).toBe(78);
      const output = readFileSync(apps[i].logFile, 'utf8');
      expect(output).toMatch(new RegExp(`^invalid configuration: ${name} `, 'm'));
      expect(output).not.toContain(value);
      expect(output).not.toMatch(/hunter2|s3cret/);
    }
  });

  it('stops each app that seals secrets at start without SIGNING_KEY_ENCRYPTION_SECRET, in one line naming it', async () => {
    const apps = ['gateway', 'backchannel-dispatcher', 'log-streamer'].map((app) =>
      AppProcess.start(app, { SIGNING_KEY_ENCRYPTION_SECRET: '', KAFKA_TOPIC_PREFIX: prefix }),
    );
    for (const app of apps) {
      expect(await app.exited).toBe(78);
      const lines = readFileSync(app.logFile, 'utf8').trim().split('\n');
      expect(lines).toEqual(['invalid configuration: SIGNING_KEY_ENCRYPTION_SECRET is required (at least 16 characters)']);
    }
  });

  it("starts an app that holds no secret whatever another app's variables say", async () => {
    const terminator = AppProcess.start('session-terminator', {
      ...testEnv({ KAFKA_TOPIC_PREFIX: prefix, HEALTH_PORT: '0', LOG_LEVEL: 'info' }),
      SIGNING_KEY_ENCRYPTION_SECRET: '',
      PORT: 'not a port',
      GTR_RATE_LIMIT_PER_SECOND: 'many',
      BACKCHANNEL_TIMEOUT_MS: '-5',
    });
    try {
      // Ready means it joined its consumer group: it read its configuration and started.
      await pollUntil(
        async () => (existsSync(terminator.logFile) ? readFileSync(terminator.logFile, 'utf8') : ''),
        (log) => /health on http:\/\/127\.0\.0\.1:\d+/.test(log) || terminator.exitCode !== null,
        { timeoutMs: 30_000, what: 'the session-terminator to start' },
      );
      expect(terminator.exitCode).toBeNull();
    } finally {
      await terminator.stop();
    }
  });

  it('npm run secrets:reseal moves every secret to a new SIGNING_KEY_ENCRYPTION_SECRET, and the apps go on with it', async () => {
    const NEW = 'a new key-encryption secret for the run';
    // A signing key as the gateway keeps one (the harness emptied the table after start-up).
    expect((await gw.api('POST', '/api/v2/keys/signing/rotate', { alg: 'RS256' })).status).toBe(201);
    const siem = await receiver();
    const stream = await createStream({
      name: 'rotated',
      type: 'http',
      sink: { httpEndpoint: siem.url, httpAuthorization: 'Bearer before-rotation', httpCustomHeaders: [{ header: 'X-Api-Key', value: 'k-rot' }] },
    });
    await emit(1);
    await pollUntil(async () => siem.distinctLogIds.size, (n) => n === 1, { what: 'a delivery under the old secret' });
    await streamer.close();

    const env = { DATABASE_URL: gw.config.database.url, LOG_LEVEL: 'warn', SIGNING_KEY_ENCRYPTION_SECRET: NEW, SIGNING_KEY_ENCRYPTION_SECRET_OLD: RUN_SECRET };
    const sinkBefore = (await gw.dataSource.query(`SELECT sink FROM log_streams WHERE id = $1`, [stream.id]))[0].sink;
    const reseal = (args: string[], e: Record<string, string> = env) => run('scripts/reseal-secrets', args, e);

    expect(await reseal(['--force'])).toMatchObject({ code: 64, stderr: expect.stringContaining('usage: npm run secrets:reseal') });
    // The gateway's signing key and the stream's two values.
    expect(await reseal(['--dry-run'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^would re-seal 3, already current 0$/m) });
    expect((await gw.dataSource.query(`SELECT sink FROM log_streams WHERE id = $1`, [stream.id]))[0].sink).toEqual(sinkBefore);

    const done = await reseal([]);
    expect(done).toMatchObject({ code: 0, stdout: expect.stringMatching(/^re-sealed 3, already current 0$/m) });
    expect(done.stdout).toContain(`re-sealed log_streams ${stream.id} (httpAuthorization, header X-Api-Key)`);
    expect(done.stdout + done.stderr).not.toMatch(/before-rotation|k-rot|PRIVATE KEY|test-key-encryption-secret|a new key-encryption/);
    expect(await reseal([])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^re-sealed 0, already current 3$/m) });
    // Under a secret that opens nothing: named, exit 1, nothing written.
    const wrong = await reseal([], { ...env, SIGNING_KEY_ENCRYPTION_SECRET: 'yet another secret value', SIGNING_KEY_ENCRYPTION_SECRET_OLD: 'and one more secret value' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/re-seal failed: 3 sealed value\(s\) open under neither secret, nothing was re-sealed: signing_keys .*; log_streams lst_\w+ httpAuthorization; log_streams lst_\w+ header X-Api-Key/);

    // The apps restarted with the new secret: deliveries carry the same credentials, logout tokens get signed.
    streamer = await startLogStreamer({ ...streamerSettings, SIGNING_KEY_ENCRYPTION_SECRET: NEW });
    await emit(1);
    await pollUntil(async () => siem.distinctLogIds.size, (n) => n === 2, { what: 'a delivery under the new secret' });
    expect(siem.requests[siem.requests.length - 1].headers).toMatchObject({ authorization: 'Bearer before-rotation', 'x-api-key': 'k-rot' });
    const key = await new SigningKeyStore(new SigningKeyRepository(gw.dataSource), NEW).current();
    expect(key.privateKey.asymmetricKeyType).toBe('rsa');
  });
});
