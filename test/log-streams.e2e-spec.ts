import { Kafka, logLevel } from 'kafkajs';
import { LogEvent } from '@ulo/contracts';
import { pollUntil, testConfig } from '@ulo/testing';
import { RunningGateway, startGateway } from '../apps/gateway/test/gateway.harness';
import { LogReceiver } from '../apps/log-streamer/test/log-receiver';
import { RunningLogStreamer, oneOfEachType, publishLogEvents, startLogStreamer } from '../apps/log-streamer/test/log-streamer.harness';

/**
 * Log streams (SPEC §5) end to end: the gateway's Management API, the log-streamer
 * consuming `<prefix>log-events`, real webhook receivers on loopback and a real Kafka topic.
 * Retries and suspension are configured to take milliseconds (12 failures, 20-100 ms apart).
 */
describe('log streams', () => {
  const prefix = `${testConfig().kafka.topicPrefix}streams${Date.now().toString(36)}.`;
  let gw: RunningGateway;
  let streamer: RunningLogStreamer;
  const receivers: LogReceiver[] = [];

  const receiver = async (answer: number | 'hang' = 200) => {
    const r = await LogReceiver.start(answer);
    receivers.push(r);
    return r;
  };
  const createStream = async (body: Record<string, unknown>) => {
    const res = await gw.api('POST', '/api/v2/log-streams', body);
    expect(res.status).toBe(201);
    return res.body as { id: string };
  };
  const httpStream = (r: LogReceiver, sink: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
    createStream({ name: 'webhook', type: 'http', sink: { httpEndpoint: r.url, ...sink }, ...extra });
  const streamOf = async (id: string) => (await gw.api('GET', `/api/v2/log-streams/${id}`)).body;
  const emit = (n: number, type: 'srrt' | 'universal_logout_failed' = 'srrt') =>
    publishLogEvents(
      streamer.config,
      Array.from({ length: n }, (_, i) => ({ type, description: `event ${i}`, user_id: `auth0|u${i}` })),
    );
  const ids = (events: LogEvent[]) => events.map((e) => e.log_id);
  const sorted = (list: string[]) => [...list].sort();

  beforeAll(async () => {
    // The gateway logs each Management API write here (a sapi per stream created, changed or
    // deleted: test/logs.e2e-spec.ts streams those). Its log events go to topics of their own
    // prefix, so that the streams under test carry exactly the events each test publishes.
    gw = await startGateway({ KAFKA_TOPIC_PREFIX: `${prefix}admin.`, LOG_STREAM_KAFKA_TOPIC_PREFIX: `${prefix}sinks.` });
    // A receiver that hangs holds its stream for 30 s: longer than any wait for another stream.
    // Kafka stream topics are created by the streamer here (test/hostile-traffic-secrets: when they are not).
    streamer = await startLogStreamer({ KAFKA_TOPIC_PREFIX: prefix, OUTBOUND_TIMEOUT_MS: '30000', LOG_STREAM_KAFKA_CREATE_TOPICS: 'true' });
  });
  afterEach(async () => {
    // Streams of one test must not fail (and log) through the next one.
    const list = await gw.api('GET', '/api/v2/log-streams?take=100');
    for (const s of list.body.log_streams) await gw.api('DELETE', `/api/v2/log-streams/${s.id}`);
    for (const r of receivers.splice(0)) await r.close();
  });
  afterAll(async () => {
    await streamer.close();
    await gw.close();
  });

  it('delivers each content format with the verbatim Authorization header and the custom headers', async () => {
    const authorization = 'Splunk 2f0e5c1a-Ffe3=='; // not a Bearer token: sent as is
    const headers = [
      { header: 'X-Tenant', value: 'acme' },
      { header: 'X-Source', value: 'universal-logout' },
    ];
    const [array, lines, object] = [await receiver(), await receiver(), await receiver()];
    const streams = {
      JSONARRAY: await httpStream(array, { httpAuthorization: authorization, httpCustomHeaders: headers, httpContentFormat: 'JSONARRAY' }),
      JSONLINES: await httpStream(lines, {
        httpAuthorization: authorization,
        httpCustomHeaders: headers,
        httpContentFormat: 'JSONLINES',
        httpContentType: 'application/x-ndjson',
      }),
      JSONOBJECT: await httpStream(object, { httpAuthorization: authorization, httpCustomHeaders: headers, httpContentFormat: 'JSONOBJECT' }),
    };
    const events = await publishLogEvents(streamer.config, oneOfEachType());
    const expected = events.map((e) => ({ log_id: e.log_id, data: e }));

    for (const r of [array, lines, object]) {
      await pollUntil(async () => r.envelopes.length, (n) => n >= events.length, { what: 'every envelope at a receiver' });
      expect(r.envelopes).toEqual(expected);
      for (const req of r.requests) {
        expect(req.headers.authorization).toBe(authorization);
        expect(req.headers['x-tenant']).toBe('acme');
        expect(req.headers['x-source']).toBe('universal-logout');
      }
    }
    // JSONARRAY: a batch as one array; JSONLINES: a batch, one envelope per line; JSONOBJECT: one per request.
    expect(array.requests.length).toBeLessThan(events.length);
    for (const req of array.requests) {
      expect(Array.isArray(JSON.parse(req.body))).toBe(true);
      expect(req.headers['content-type']).toBe('application/json');
    }
    expect(lines.requests.length).toBeLessThan(events.length);
    for (const req of lines.requests) {
      expect(req.body.split('\n').every((line) => !Array.isArray(JSON.parse(line)))).toBe(true);
      expect(req.headers['content-type']).toBe('application/x-ndjson');
    }
    expect(object.requests).toHaveLength(events.length);
    expect(object.requests.map((r) => JSON.parse(r.body))).toEqual(expected);

    // Stored by the log-streamer (these events were only published), each once.
    const stored = await gw.dataSource.query(`SELECT log_id FROM log_events WHERE log_id = ANY ($1) ORDER BY log_id`, [ids(events)]);
    expect(stored.map((r: { log_id: string }) => r.log_id)).toEqual(sorted(ids(events)));

    // Health, and the secret nowhere in what the API returns.
    const health = await pollUntil(() => streamOf(streams.JSONOBJECT.id), (s) => s.health.delivered === events.length);
    expect(health).toMatchObject({
      status: 'active',
      // Custom header values are secrets too: shown by name only.
      sink: { httpEndpoint: object.url, httpContentFormat: 'JSONOBJECT', httpCustomHeaders: headers.map(({ header }) => ({ header, value: '[redacted]' })) },
      health: { lag: 0, consecutive_failures: 0, last_delivered_log_id: events[events.length - 1].log_id, last_errors: [] },
    });
    expect(health.health.last_success_at).toEqual(expect.any(String));
    const list = await gw.api('GET', '/api/v2/log-streams');
    expect(JSON.stringify([list.body, health])).not.toContain(authorization);
    expect(JSON.stringify([list.body, health])).not.toContain('httpAuthorization');
    for (const { value } of headers) expect(JSON.stringify([list.body, health])).not.toContain(`"${value}"`);
  });

  it('lets through exactly the events whose category a filter names; no filter lets through all', async () => {
    const [fails, userAndSuccess, all] = [await receiver(), await receiver(), await receiver()];
    await httpStream(fails, {}, { filters: [{ type: 'category', name: 'auth.logout.fail' }] });
    await httpStream(userAndSuccess, {}, {
      filters: [
        { type: 'category', name: 'user.success' },
        { type: 'category', name: 'auth.logout.success' },
      ],
    });
    const everything = await httpStream(all);
    const events = await publishLogEvents(streamer.config, [...oneOfEachType(), ...oneOfEachType('auth0|bob')]);
    // oneOfEachType writes each event's category (SPEC §5 table) out in its description.
    const matching = (categories: string[]) => events.filter((e) => categories.includes(e.description)).map((e) => e.log_id);

    await pollUntil(async () => all.distinctLogIds.size, (n) => n === events.length, { what: 'the unfiltered stream' });
    await pollUntil(
      async () => (await gw.api('GET', '/api/v2/log-streams')).body.log_streams.map((s: { health: { lag: number } }) => s.health.lag),
      (lags: number[]) => lags.every((l) => l === 0),
      { what: 'every stream to drain' },
    );
    expect(sorted(fails.logIds)).toEqual(sorted(matching(['auth.logout.fail'])));
    expect(fails.logIds).toHaveLength(4);
    expect(sorted(userAndSuccess.logIds)).toEqual(sorted(matching(['user.success', 'auth.logout.success'])));
    expect(userAndSuccess.logIds).toHaveLength(6);
    expect(sorted(all.logIds)).toEqual(sorted(ids(events)));
    expect((await streamOf(everything.id)).health.delivered).toBe(events.length);
  });

  it('retries a receiver that is down, suspends the stream, and after reactivation delivers everything it missed', async () => {
    const siem = await receiver();
    const stream = await httpStream(siem);
    const before = await emit(10);
    await pollUntil(async () => siem.distinctLogIds.size, (n) => n === 10, { what: 'the first events' });

    await siem.down();
    const missed = await emit(25);
    const suspended = await pollUntil(() => streamOf(stream.id), (s) => s.status === 'suspended', {
      timeoutMs: 30000,
      what: 'the stream to be suspended',
    });
    // 12 consecutive failures (LOG_STREAM_MAX_FAILURES), the last 10 kept, newest first.
    expect(suspended.health).toMatchObject({ consecutive_failures: 12, lag: 25, suspended_at: expect.any(String) });
    expect(suspended.health.last_errors).toHaveLength(10);
    for (const e of suspended.health.last_errors) {
      expect(e).toEqual({ at: expect.any(String), error: expect.stringMatching(/^POST http:\/\/127\.0\.0\.1:\d+\/logs failed: .*ECONNREFUSED/) });
    }
    const times = suspended.health.last_errors.map((e: { at: string }) => Date.parse(e.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(Date.parse(suspended.health.last_success_at)).toBeLessThan(times[0]);

    // Suspended: events keep being queued, nothing is attempted.
    await siem.up();
    const whileSuspended = await emit(5);
    await pollUntil(async () => (await streamOf(stream.id)).health.lag, (lag) => lag === 30, { what: 'events queued while suspended' });
    expect(siem.distinctLogIds.size).toBe(10);

    const resumed = await gw.api('PATCH', `/api/v2/log-streams/${stream.id}`, { status: 'active' });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ status: 'active', health: { consecutive_failures: 0, suspended_at: null } });
    const everything = [...before, ...missed, ...whileSuspended];
    await pollUntil(async () => siem.distinctLogIds.size, (n) => n === everything.length, { what: 'everything the receiver missed' });
    expect(sorted([...siem.distinctLogIds])).toEqual(sorted(ids(everything)));
    const duplicates = siem.logIds.length - siem.distinctLogIds.size;
    // At least once: a duplicate is allowed, and counted; with the receiver simply down there is none.
    expect(duplicates).toBe(0);
    // The receiver has the batch a moment before the stream records it delivered: wait for that record.
    const caughtUp = await pollUntil(() => streamOf(stream.id), (s) => s.health.lag === 0, { what: 'the queue to empty' });
    expect(caughtUp.health).toMatchObject({ lag: 0, consecutive_failures: 0 });
  });

  it('keeps the position of a paused stream and resumes from it', async () => {
    const siem = await receiver();
    const stream = await httpStream(siem);
    const first = await emit(5);
    await pollUntil(async () => (await streamOf(stream.id)).health, (h) => h.delivered === 5 && h.lag === 0);

    expect((await gw.api('PATCH', `/api/v2/log-streams/${stream.id}`, { status: 'paused' })).body.status).toBe('paused');
    const duringPause = await emit(7);
    await pollUntil(async () => (await streamOf(stream.id)).health.lag, (lag) => lag === 7, { what: 'events queued during the pause' });
    expect(siem.logIds).toEqual(ids(first));

    expect((await gw.api('PATCH', `/api/v2/log-streams/${stream.id}`, { status: 'active' })).body.status).toBe('active');
    await pollUntil(async () => siem.logIds.length, (n) => n === 12, { what: 'the paused events' });
    expect(siem.logIds).toEqual([...ids(first), ...sorted(ids(duringPause))]);
    // Recorded a moment after the receiver has the batch (delivered count and queue change together).
    const recorded = await pollUntil(() => streamOf(stream.id), (s) => s.health.delivered === 12, { what: 'the delivery to be recorded' });
    expect(recorded.health).toMatchObject({ lag: 0, delivered: 12, last_delivered_log_id: sorted(ids(duringPause))[6] });
  });

  it('delivers a second stream while the first one is stuck on a receiver that does not answer', async () => {
    const stuck = await receiver('hang');
    const healthy = await receiver();
    const failing = await httpStream(stuck);
    await httpStream(healthy);
    const first = await emit(30);
    await pollUntil(async () => stuck.open, (n) => n === 1, { what: 'the first stream to be stuck on its receiver' });

    // While that request hangs (for up to OUTBOUND_TIMEOUT_MS, 30 s here), the other stream goes on.
    const second = await emit(30);
    await pollUntil(async () => healthy.distinctLogIds.size, (n) => n === 60, { timeoutMs: 10000, what: 'the healthy stream' });
    expect(stuck.open).toBe(1);
    expect((await streamOf(failing.id)).health).toMatchObject({ lag: 60, delivered: 0 });

    // The stuck receiver answers at last: the first stream catches up, nothing lost.
    stuck.answerWith(200);
    await pollUntil(async () => (await streamOf(failing.id)).health.lag, (lag) => lag === 0, { what: 'the first stream to catch up' });
    expect(sorted([...stuck.distinctLogIds])).toEqual(sorted(ids([...first, ...second])));
  });

  it('re-publishes only the filtered events to a kafka stream topic, keyed by log_id', async () => {
    const topic = `${prefix}sinks.siem-logout-failures`;
    const stream = await createStream({
      name: 'kafka',
      type: 'kafka',
      sink: { topic },
      filters: [{ type: 'category', name: 'auth.logout.fail' }],
    });
    const events = await publishLogEvents(streamer.config, [...oneOfEachType(), ...oneOfEachType('auth0|bob')]);
    const expected = events.filter((e) => e.description === 'auth.logout.fail');
    await pollUntil(async () => (await streamOf(stream.id)).health, (h) => h.lag === 0 && h.delivered === expected.length, {
      what: 'the kafka stream to deliver',
    });

    const kafka = new Kafka({ brokers: streamer.config.kafka.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const total = (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    await admin.disconnect();
    expect(total).toBe(expected.length);

    const consumer = kafka.consumer({ groupId: `reader-${Date.now()}`, maxWaitTimeInMs: 100 });
    const seen: { key: string; value: unknown }[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => void seen.push({ key: message.key!.toString(), value: JSON.parse(message.value!.toString()) }),
      });
      await pollUntil(async () => seen.length, (n) => n === expected.length, { what: `the messages on ${topic}` });
    } finally {
      await consumer.disconnect();
    }
    expect(seen.sort((a, b) => a.key.localeCompare(b.key))).toEqual(
      [...expected].sort((a, b) => a.log_id.localeCompare(b.log_id)).map((e) => ({ key: e.log_id, value: { log_id: e.log_id, data: e } })),
    );
  });

  it('exposes events persisted, delivered and failed, and each stream lag, as Prometheus metrics', async () => {
    const siem = await receiver(503);
    const stream = await httpStream(siem);
    await emit(3);
    await pollUntil(async () => (await streamOf(stream.id)).health.consecutive_failures, (n) => n >= 2, { what: 'failed deliveries' });
    const text = await (await fetch(streamer.metricsUrl)).text();
    const value = (line: RegExp) => Number(line.exec(text)?.[1] ?? NaN);
    expect(value(/^ulo_log_events_persisted_total\{path="log-streamer"\} (\d+)$/m)).toBeGreaterThanOrEqual(3);
    expect(value(/^ulo_log_stream_events_delivered_total\{[^}]*\} (\d+)$/m)).toBeGreaterThan(0);
    expect(value(new RegExp(`^ulo_log_stream_delivery_failures_total\\{stream_id="${stream.id}"\\} (\\d+)$`, 'm'))).toBeGreaterThanOrEqual(2);
    expect(value(new RegExp(`^ulo_log_stream_events_failed_total\\{stream_id="${stream.id}"\\} (\\d+)$`, 'm'))).toBeGreaterThanOrEqual(6);
    expect(value(new RegExp(`^ulo_log_stream_lag\\{stream_id="${stream.id}",status="[a-z]+"\\} (\\d+)$`, 'm'))).toBe(3);
    expect(siem.requests[0].body).toContain('"log_id"');
  });

  it('lets two log-streamer instances share the streams without delivering twice', async () => {
    const second = await startLogStreamer({ KAFKA_TOPIC_PREFIX: prefix, OUTBOUND_TIMEOUT_MS: '30000' });
    try {
      const receiversOfStreams = [await receiver(), await receiver(), await receiver(), await receiver()];
      for (const r of receiversOfStreams) await httpStream(r);
      const events = await emit(300);
      for (const r of receiversOfStreams) {
        await pollUntil(async () => r.distinctLogIds.size, (n) => n === events.length, { what: 'every stream' });
        expect(r.logIds).toHaveLength(events.length);
      }
      const driven = [...streamer.scheduler.driven, ...second.scheduler.driven];
      expect(new Set(driven).size).toBe(driven.length);
    } finally {
      await second.close();
    }
  });
});
