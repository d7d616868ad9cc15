import { AppProcess, pollUntil, testConfig, testEnv } from '@ulo/testing';
import { RunningGateway, startGateway } from '../apps/gateway/test/gateway.harness';
import { LogReceiver } from '../apps/log-streamer/test/log-receiver';
import { fastLogStreams, publishLogEvents } from '../apps/log-streamer/test/log-streamer.harness';

/**
 * SPEC §5 (at least once): the log-streamer killed (SIGKILL) while a batch is on its way to a log stream and
 * before it committed any Kafka offset. A new instance finishes the work: every event stored once,
 * every event delivered; only the batch in flight may arrive twice.
 */
describe('log-streamer killed mid-batch', () => {
  const prefix = `${testConfig().kafka.topicPrefix}lsrestart${Date.now().toString(36)}.`;
  let gw: RunningGateway;
  let siem: LogReceiver;
  const processes: AppProcess[] = [];
  const start = (extra: Record<string, string> = {}) => {
    const c = testConfig();
    const p = AppProcess.start('log-streamer', {
      DATABASE_URL: c.database.url,
      KAFKA_BROKERS: c.kafka.brokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      ALLOW_PRIVATE_NETWORK_URLS: 'true',
      SIGNING_KEY_ENCRYPTION_SECRET: testEnv().SIGNING_KEY_ENCRYPTION_SECRET,
      LOG_LEVEL: 'info',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      ...fastLogStreams,
      LOG_STREAM_LEASE_MS: '2000',
      ...extra,
    });
    processes.push(p);
    return p;
  };
  const count = async (sql: string, params: unknown[] = []) => Number((await gw.dataSource.query(sql, params))[0].n);

  beforeAll(async () => {
    gw = await startGateway({ KAFKA_TOPIC_PREFIX: prefix });
    siem = await LogReceiver.start('hang');
  });
  afterAll(async () => {
    for (const p of processes) await p.stop();
    await siem.close();
    await gw.close();
  });

  it('loses nothing from the store or the stream', async () => {
    const stream = await gw.api('POST', '/api/v2/log-streams', { name: 'SIEM', type: 'http', sink: { httpEndpoint: siem.url } });
    expect(stream.status).toBe(201);
    // Offsets of this instance would be committed after ten minutes: it dies long before.
    const doomed = start({ KAFKA_COMMIT_INTERVAL_MS: '600000' });
    const events = await publishLogEvents(
      gw.config,
      Array.from({ length: 3000 }, (_, i) => ({ type: 'srrt' as const, description: `event ${i}`, user_id: `auth0|u${i % 7}` })),
    );
    // The stream also carries the sapi of its own creation, logged by the gateway.
    const creation: { log_id: string }[] = await gw.dataSource.query(`SELECT log_id FROM log_events WHERE type = 'sapi'`);
    expect(creation).toHaveLength(1);
    const ids = [...events, ...creation].map((e) => e.log_id).sort();

    // A batch is on its way (the receiver holds the request), the store is being filled.
    await pollUntil(async () => siem.open, (n) => n === 1, { timeoutMs: 30000, what: 'a batch in flight' });
    const storedBeforeCrash = await count(`SELECT count(*) AS n FROM log_events WHERE type = 'srrt'`);
    expect(storedBeforeCrash).toBeGreaterThan(0);
    await doomed.crash();
    siem.answerWith(200);

    start();
    await pollUntil(() => count(`SELECT count(*) AS n FROM log_events`), (n) => n === ids.length, {
      timeoutMs: 45000,
      intervalMs: 250,
      what: 'the restarted instance to store every event',
    });
    await pollUntil(async () => siem.distinctLogIds.size, (n) => n === ids.length, {
      timeoutMs: 45000,
      intervalMs: 250,
      what: 'the stream to receive every event',
    });

    const stored: { log_id: string }[] = await gw.dataSource.query(`SELECT log_id FROM log_events ORDER BY log_id`);
    expect(stored.map((r) => r.log_id)).toEqual(ids);
    expect([...siem.distinctLogIds].sort()).toEqual(ids);
    // Each event queued once, although every message was consumed twice: only the batch that was
    // in flight at the kill is delivered again.
    const duplicates = siem.logIds.length - siem.distinctLogIds.size;
    expect(duplicates).toBeLessThanOrEqual(100);
    expect(await count(`SELECT count(*) AS n FROM log_stream_fanouts`)).toBe(ids.length);
    await pollUntil(async () => (await gw.api('GET', `/api/v2/log-streams/${stream.body.id}`)).body.health, (h) => h.lag === 0);
    process.stdout.write(
      `log-streamer killed with ${storedBeforeCrash}/${events.length} events stored; ${duplicates} delivered twice after the restart\n`,
    );
  });
});
