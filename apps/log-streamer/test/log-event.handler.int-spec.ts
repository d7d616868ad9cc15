import { Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { DeadLetter, LogEvent } from '@ulo/contracts';
import { buildLogEvent } from '@ulo/messaging';
import { LogStreamRepository } from '@ulo/persistence';
import { deleteTopicsWithPrefix, pollUntil, testConfig, truncateAll, uniqueSuffix } from '@ulo/testing';
import { TopicReader, handledPast, produce } from '../../../test/support/topic-reader';
import { LogStreamFanoutRepository } from '../src/store-log-events/log-stream-fanout.repository';
import { LogReceiver } from './log-receiver';
import { RunningLogStreamer, publishLogEvents, startLogStreamer } from './log-streamer.harness';

/**
 * SPEC §5: the log-streamer stores each event of `<prefix>log-events` once and queues it once for
 * every log stream whose filters match its category. The streams are paused, so their queues keep
 * what was queued (nothing is delivered, nothing is dropped), except one active stream posting to
 * a loopback receiver where a test needs an event delivered and gone from the queue.
 */
describe('log-streamer: log-events', () => {
  const prefix = `${testConfig().kafka.topicPrefix}x${uniqueSuffix()}.`;
  const kafka = new Kafka({ brokers: testConfig().kafka.brokers, logLevel: logLevel.NOTHING });
  const topic = `${prefix}log-events`;
  const deadLetterTopic = `${prefix}dead-letter.v1`;
  const groupId = `${prefix}log-streamer`;
  let streamer: RunningLogStreamer;
  let reader: TopicReader;
  let receiver: LogReceiver;
  let dataSource: DataSource;

  const query = <T>(sql: string, params: unknown[] = []): Promise<T[]> => dataSource.query(sql, params);

  async function insertStream(id: string, categories: string[], live?: LogReceiver): Promise<void> {
    await query(`INSERT INTO log_streams (id, name, type, status, sink, filters, categories) VALUES ($1, $1, 'http', $2, $3, $4, $5)`, [
      id,
      live ? 'active' : 'paused',
      JSON.stringify({
        httpEndpoint: live?.url ?? 'http://127.0.0.1:9/never-called',
        httpContentType: 'application/json',
        httpContentFormat: 'JSONARRAY',
        httpCustomHeaders: [],
      }),
      JSON.stringify(categories.map((name) => ({ type: 'category', name }))),
      categories,
    ]);
  }

  beforeAll(async () => {
    streamer = await startLogStreamer({ KAFKA_TOPIC_PREFIX: prefix });
    dataSource = streamer.app.get(DataSource);
    await pollUntil(async () => (await fetch(streamer.metricsUrl)).ok, Boolean, { what: 'the log-streamer to serve its metrics' });
    reader = await TopicReader.start(kafka, `${prefix}reader`, [deadLetterTopic]);
    receiver = await LogReceiver.start(200);
  }, 60_000);
  afterAll(async () => {
    await reader?.close();
    await receiver?.close();
    await truncateAll(dataSource);
    await streamer?.close();
    await deleteTopicsWithPrefix(kafka, prefix);
  });
  beforeEach(async () => {
    await truncateAll(dataSource);
    await insertStream('st_all', []);
    await insertStream('st_logout_success', ['auth.logout.success']);
    await insertStream('st_management', ['management.success', 'management.fail']);
  });

  const storedData = async (logId: string) => (await query<{ data: LogEvent }>(`SELECT data FROM log_events WHERE log_id = $1`, [logId])).map((r) => r.data);
  const queued = () => query<{ stream_id: string; log_id: string }>(`SELECT stream_id, log_id FROM log_stream_queue ORDER BY stream_id, log_id`);
  const storedOnce = (logId: string) => pollUntil(() => storedData(logId), (rows) => rows.length > 0, { what: `log event ${logId} to be stored` });

  it('stores an event no producer stored, once, and queues it once for each matching stream', async () => {
    const [succeeded, management, srrt] = await publishLogEvents(streamer.config, [
      { type: 'universal_logout_succeeded', description: 'Universal Logout succeeded', user_id: 'auth0|ann', details: { request_id: 'lr_1' } },
      { type: 'sapi', description: 'Create a client' },
      { type: 'srrt', description: 'Refresh token revoked', details: { credential_id: 'rt_1' } },
    ]);

    for (const e of [succeeded, management, srrt]) expect(await storedOnce(e.log_id)).toEqual([e]);
    await pollUntil(queued, (rows) => rows.length >= 5, { what: 'five queue rows' });

    // log_ids ascend in the order the events were built.
    expect(await queued()).toEqual([
      { stream_id: 'st_all', log_id: succeeded.log_id },
      { stream_id: 'st_all', log_id: management.log_id },
      { stream_id: 'st_all', log_id: srrt.log_id },
      { stream_id: 'st_logout_success', log_id: succeeded.log_id },
      { stream_id: 'st_management', log_id: management.log_id },
    ]);
    expect(await query(`SELECT count(*)::int AS n FROM log_events`)).toEqual([{ n: 3 }]);
  });

  it('an event a producer stored already is not stored twice, and is queued once', async () => {
    const event = buildLogEvent({ type: 'oidc_backchannel_logout_succeeded', description: 'accepted', client_id: 'app-1' });
    await query(`INSERT INTO log_events (log_id, date, type, user_id, connection, client_id, data) VALUES ($1, $2, $3, NULL, NULL, 'app-1', $4)`, [
      event.log_id,
      event.date,
      event.type,
      JSON.stringify(event),
    ]);

    const [placed] = await produce(kafka, topic, [{ key: event.log_id, value: JSON.stringify(event) }]);
    await handledPast(kafka, groupId, topic, placed);

    expect(await storedData(event.log_id)).toEqual([event]);
    expect(await queued()).toEqual([
      { stream_id: 'st_all', log_id: event.log_id },
      { stream_id: 'st_logout_success', log_id: event.log_id },
    ]);
  });

  it('a redelivered event is stored once and not queued twice, also after a stream delivered it', async () => {
    await insertStream('st_live', [], receiver);
    const [event] = await publishLogEvents(streamer.config, [{ type: 'fapi', description: 'Delete a client' }]);
    await storedOnce(event.log_id);
    // The live stream delivers it and forgets it; the paused ones keep it.
    await pollUntil(async () => receiver.logIds.filter((id) => id === event.log_id).length, (n) => n >= 1, { what: 'the live stream to deliver it' });
    await pollUntil(queued, (rows) => rows.length === 2 && !rows.some((r) => r.stream_id === 'st_live'), { what: 'the delivered row to leave the queue' });

    const [again] = await produce(kafka, topic, [{ key: event.log_id, value: JSON.stringify(event) }]);
    await handledPast(kafka, groupId, topic, again);

    expect(await storedData(event.log_id)).toEqual([event]);
    expect(await query(`SELECT count(*)::int AS n FROM log_events`)).toEqual([{ n: 1 }]);
    expect(await queued()).toEqual([
      { stream_id: 'st_all', log_id: event.log_id },
      { stream_id: 'st_management', log_id: event.log_id },
    ]);
    // Queued again, it would be in the queue now, or delivered a second time.
    expect(receiver.logIds.filter((id) => id === event.log_id)).toEqual([event.log_id]);
    expect(receiver.envelopes.find((e) => e.log_id === event.log_id)).toEqual({ log_id: event.log_id, data: event });
  });

  it('dead-letters an event without a type, and still stores the next event on the same partition', async () => {
    const { type: _type, ...untyped } = buildLogEvent({ type: 'sapi', description: 'no type' });
    const next = buildLogEvent({ type: 'sapi', description: 'behind the bad one' });
    const untypedValue = JSON.stringify(untyped);

    const [bad, good] = await produce(kafka, topic, [
      { key: untyped.log_id, value: untypedValue, partition: 2 },
      { key: next.log_id, value: JSON.stringify(next), partition: 2 },
    ]);
    expect(good.partition).toBe(2);
    expect(BigInt(good.offset)).toBe(BigInt(bad.offset) + 1n);

    expect(await storedOnce(next.log_id)).toEqual([next]);
    const letters = await pollUntil(async () => reader.of(deadLetterTopic).filter((m) => m.key === untyped.log_id), (l) => l.length >= 1, {
      what: 'the dead letter',
    });
    expect(letters.map((l) => JSON.parse(l.value) as DeadLetter)).toEqual([
      {
        sourceTopic: topic,
        partition: 2,
        offset: bad.offset,
        consumerGroup: groupId,
        error: 'invalid log event: type: Required',
        value: untypedValue,
        key: untyped.log_id,
      },
    ]);
    expect(await storedData(untyped.log_id)).toEqual([]);
    await pollUntil(queued, (rows) => rows.length >= 2, { what: 'the queue rows of the good event' });
    expect(await queued()).toEqual([
      { stream_id: 'st_all', log_id: next.log_id },
      { stream_id: 'st_management', log_id: next.log_id },
    ]);
  });

  describe('a stream deleted while events are queued for it keeps no queue row', () => {
    const event = () => buildLogEvent({ type: 'sapi', description: 'Create a client' });
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

    it('deleted during the fan-out: the deletion waits for it, then removes what it queued', async () => {
      const fanouts = streamer.app.get(LogStreamFanoutRepository);
      const e = event();
      let removal: Promise<boolean> | undefined;
      await dataSource.transaction(async (tx) => {
        expect(await fanouts.fanOut(tx, [e])).toBe(2);
        removal = new LogStreamRepository(dataSource).remove('st_all');
        await pause(300);
        // Not deleted yet: the fan-out's transaction holds the stream.
        expect(await query(`SELECT id FROM log_streams WHERE id = 'st_all'`)).toEqual([{ id: 'st_all' }]);
      });
      expect(await removal).toBe(true);
      expect(await queued()).toEqual([{ stream_id: 'st_management', log_id: e.log_id }]);
    });

    it('deleted before the fan-out commits its statement: nothing is queued for it', async () => {
      const fanouts = streamer.app.get(LogStreamFanoutRepository);
      const e = event();
      const deletion = dataSource.createQueryRunner();
      await deletion.startTransaction();
      try {
        await deletion.query(`DELETE FROM log_streams WHERE id = 'st_all'`);
        const fanOut = dataSource.transaction((tx) => fanouts.fanOut(tx, [e]));
        await pause(300);
        await deletion.commitTransaction();
        expect(await fanOut).toBe(1);
      } finally {
        await deletion.release();
      }
      expect(await queued()).toEqual([{ stream_id: 'st_management', log_id: e.log_id }]);
    });
  });
});
