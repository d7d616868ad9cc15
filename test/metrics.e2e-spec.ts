import { Kafka, logLevel } from 'kafkajs';
import { AppProcess, FakeIdp, RpReceiver, freePort, pollUntil, testConfig, testEnv } from '@ulo/testing';
import { RunningGateway, startGateway } from '../apps/gateway/test/gateway.harness';
import { seedUser } from '../apps/gateway/test/revocation.fixtures';
import { LogReceiver } from '../apps/log-streamer/test/log-receiver';

/** The samples of a Prometheus text, by series (`name{labels}` as written) and value. */
class Scrape {
  readonly samples = new Map<string, number>();

  constructor(
    readonly status: number,
    readonly contentType: string,
    readonly text: string,
  ) {
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const at = line.lastIndexOf(' ');
      this.samples.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
  }

  static async of(url: string): Promise<Scrape> {
    const res = await fetch(url);
    return new Scrape(res.status, res.headers.get('content-type') ?? '', await res.text());
  }

  /** The value of one series, NaN when absent (so that every comparison with it fails). */
  value(series: string): number {
    return this.samples.get(series) ?? NaN;
  }

  /** The values of every series of `name` whose labels include `labels` (written as in the text). */
  values(name: string, labels = ''): number[] {
    return [...this.samples].filter(([series]) => series.startsWith(`${name}{`) && series.includes(labels)).map(([, v]) => v);
  }

  /** Every series family declared (`# TYPE` lines), in order. */
  get families(): string[] {
    return this.text.split('\n').filter((line) => line.startsWith('# TYPE '));
  }

  declares(name: string, type: string): boolean {
    return this.text.includes(`# TYPE ${name} ${type}\n`);
  }
}

const CONSUMERS = ['session-terminator', 'refresh-token-revoker', 'backchannel-dispatcher', 'log-streamer'] as const;

/**
 * README "Ports" and "Metrics": every app answers GET /metrics on its own port in the Prometheus
 * text format, with its named series and Node's default metrics prefixed by the app. The consumer
 * apps run as their own processes, so that each port shows what that app alone reports.
 */
describe('GET /metrics on every app', () => {
  const prefix = `${testConfig().kafka.topicPrefix}metrics${Date.now().toString(36)}.`;
  const topic = (name: string) => `${prefix}${name}`;
  let gw: RunningGateway;
  let idp: FakeIdp;
  let rp: RpReceiver;
  let siem: LogReceiver;
  let logStreamerMetricsPort = 0;
  const ports = new Map<string, number>();
  const processes: AppProcess[] = [];

  beforeAll(async () => {
    idp = await FakeIdp.start();
    rp = await RpReceiver.start(() => 200);
    siem = await LogReceiver.start(200);
    gw = await startGateway({ KAFKA_TOPIC_PREFIX: prefix });
    logStreamerMetricsPort = await freePort();
    for (const app of CONSUMERS) {
      ports.set(app, await freePort());
      processes.push(
        AppProcess.start(
          app,
          testEnv({
            KAFKA_TOPIC_PREFIX: prefix,
            HEALTH_PORT: String(ports.get(app)),
            LOG_STREAMER_METRICS_PORT: String(logStreamerMetricsPort),
            LOG_STREAM_BATCH_WINDOW_MS: '200',
            LOG_STREAM_POLL_INTERVAL_MS: '50',
            LOG_LEVEL: 'info',
          }),
        ),
      );
    }
    const connection = { name: 'acme-okta', strategy: 'okta', options: { issuer: idp.issuer, client_id: idp.clientId } };
    expect((await gw.api('POST', '/api/v2/connections', connection)).status).toBe(201);
    const client = {
      client_id: 'metrics-app',
      name: 'Metrics app',
      oidc_logout: { backchannel_logout_urls: [rp.url], backchannel_logout_initiators: { mode: 'custom', selected_initiators: ['idp-logout'] } },
    };
    expect((await gw.api('POST', '/api/v2/clients', client)).status).toBe(201);
    for (const app of CONSUMERS) {
      await pollUntil(
        () => fetch(`http://127.0.0.1:${ports.get(app)}/health/ready`).then((r) => r.status, () => 0),
        (status) => status === 200,
        { timeoutMs: 60_000, intervalMs: 200, what: `${app} to be ready` },
      );
    }
  }, 120_000);

  afterAll(async () => {
    for (const p of processes) await p.stop();
    await gw?.close();
    await siem?.close();
    await rp?.close();
    await idp?.close();
  });

  it('reports an accepted logout at every step of the pipeline', async () => {
    const stream = await gw.api('POST', '/api/v2/log-streams', { name: 'SIEM', type: 'http', sink: { httpEndpoint: siem.url } });
    expect(stream.status).toBe(201);
    await seedUser(gw.dataSource, { connection: 'acme-okta', issuer: idp.issuer, sub: '00uMetrics', sessions: 1, clientIds: ['metrics-app'] });
    const token = await idp.sign({ audience: `${gw.config.publicBaseUrl}/oauth/global-token-revocation/connection/acme-okta` });
    const answer = await fetch(`${gw.baseUrl}/oauth/global-token-revocation/connection/acme-okta`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub_id: { format: 'iss_sub', iss: idp.issuer, sub: '00uMetrics' } }),
    });
    expect(answer.status).toBe(204);
    await pollUntil(async () => rp.received.length, (n) => n === 1, { timeoutMs: 30_000, what: 'the back-channel logout' });

    const gateway = await Scrape.of(`${gw.baseUrl}/metrics`);
    expect(gateway.status).toBe(200);
    expect(gateway.contentType).toMatch(/^text\/plain;.*version=0\.0\.4/);
    expect(gateway.value('ulo_gtr_requests_total{status="204"}')).toBeGreaterThanOrEqual(1);
    expect(gateway.value('ulo_gtr_acceptance_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(gateway.declares('ulo_gtr_acceptance_duration_seconds', 'histogram')).toBe(true);
    expect(gateway.value('ulo_outbox_backlog')).toBeGreaterThanOrEqual(0);
    expect(gateway.value('ulo_logout_requests_reannounced_total')).toBeGreaterThanOrEqual(0);
    expect(gateway.value('ulo_gateway_process_cpu_user_seconds_total')).toBeGreaterThan(0);

    const scrape = (app: string, done: (s: Scrape) => boolean) =>
      pollUntil(() => Scrape.of(`http://127.0.0.1:${ports.get(app)}/metrics`), done, { timeoutMs: 30_000, what: `the metrics of ${app}` });
    // What a consumer app reports of the partition that carried its message: handled, nothing behind it.
    const consumed = (s: Scrape, of: string) =>
      s.values('ulo_consumer_messages_handled_total', `topic="${of}"`).some((n) => n >= 1) &&
      s.values('ulo_consumer_batch_duration_seconds_count', `topic="${of}"`).some((n) => n >= 1) &&
      s.values('ulo_consumer_lag', `topic="${of}"`).length > 0 &&
      s.values('ulo_consumer_lag', `topic="${of}"`).every((lag) => lag === 0);

    for (const [app, step] of [
      ['session-terminator', 'sessions'],
      ['refresh-token-revoker', 'refresh_tokens'],
    ] as const) {
      const s = await scrape(app, (m) => consumed(m, topic('logout-requested.v1')) && m.value(`ulo_logout_step_duration_seconds_count{step="${step}"}`) >= 1);
      expect(s.status).toBe(200);
      expect(s.contentType).toMatch(/^text\/plain;.*version=0\.0\.4/);
      expect(s.declares('ulo_consumer_messages_dead_lettered_total', 'counter')).toBe(true);
      expect(s.value('ulo_outbox_backlog')).toBeGreaterThanOrEqual(0);
      expect(s.value(`ulo_${app.replace(/-/g, '_')}_process_cpu_user_seconds_total`)).toBeGreaterThan(0);
      // Each process reports only its own work.
      expect(s.values('ulo_gtr_requests_total')).toEqual([]);
    }

    const dispatcher = await scrape(
      'backchannel-dispatcher',
      (m) =>
        consumed(m, topic('sessions-terminated.v1')) &&
        m.value('ulo_backchannel_deliveries_total{outcome="succeeded"}') >= 1 &&
        m.value('ulo_backchannel_deliveries_in_flight') === 0,
    );
    expect(dispatcher.value('ulo_backchannel_deliveries_total{outcome="succeeded"}')).toBe(1);
    expect(dispatcher.value('ulo_backchannel_deliveries_total{outcome="retry"}')).toBe(0);
    expect(dispatcher.value('ulo_backchannel_dispatcher_process_cpu_user_seconds_total')).toBeGreaterThan(0);

    const streamLag = `ulo_log_stream_lag{stream_id="${stream.body.id}",status="active"}`;
    const logStreamer = await scrape('log-streamer', (m) => consumed(m, topic('log-events')) && m.value(streamLag) === 0);
    expect(logStreamer.value('ulo_log_events_persisted_total{path="producer"}')).toBeGreaterThanOrEqual(1);
    expect(logStreamer.value('ulo_log_streamer_process_cpu_user_seconds_total')).toBeGreaterThan(0);
    // LOG_STREAMER_METRICS_PORT serves the same series.
    const legacy = await Scrape.of(`http://127.0.0.1:${logStreamerMetricsPort}/metrics`);
    expect(legacy.status).toBe(200);
    expect(legacy.value(streamLag)).toBeGreaterThanOrEqual(0);
    expect(legacy.values('ulo_consumer_messages_handled_total', `topic="${topic('log-events')}"`).length).toBe(1);
    expect(legacy.families).toEqual(logStreamer.families);
  }, 90_000);

  it('counts dead letters apart from the messages handled', async () => {
    const topicName = topic('logout-requested.v1');
    const url = `http://127.0.0.1:${ports.get('session-terminator')}/metrics`;
    const handled = (await Scrape.of(url)).values('ulo_consumer_messages_handled_total', `topic="${topicName}"`);
    const unknown = {
      eventId: 'e-unknown',
      type: 'logout-requested',
      version: 1,
      occurredAt: new Date().toISOString(),
      correlationId: 'lr-unknown',
      payload: {
        requestId: 'lr-unknown',
        initiator: 'idp-logout',
        userIds: ['user|nobody'],
        connection: null,
        sessions: { mode: 'all' },
        refreshTokens: { mode: 'all' },
        acceptedAt: new Date().toISOString(),
      },
    };
    const producer = new Kafka({ brokers: testConfig().kafka.brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    try {
      // Undecodable, then a valid event of a request nobody accepted: both dead-lettered, neither handled.
      await producer.send({
        topic: topicName,
        acks: -1,
        messages: [
          { key: 'user|nobody', value: '{not json' },
          { key: 'user|nobody', value: JSON.stringify(unknown) },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    const after = await pollUntil(
      () => Scrape.of(url),
      (m) => m.value(`ulo_consumer_messages_dead_lettered_total{topic="${topicName}"}`) === 2,
      { timeoutMs: 30_000, what: 'two dead letters' },
    );
    expect(after.values('ulo_consumer_messages_handled_total', `topic="${topicName}"`)).toEqual(handled);
    expect(after.values('ulo_consumer_lag', `topic="${topicName}"`).every((lag) => lag === 0)).toBe(true);
  });
});
