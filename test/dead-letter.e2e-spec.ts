import { Kafka, logLevel } from 'kafkajs';
import { buildLogEvent } from '@ulo/messaging';
import { pollUntil } from '@ulo/testing';
import { startLogStreamer } from '../apps/log-streamer/test/log-streamer.harness';
import { RunningPipeline, startPipeline } from './support/pipeline';

/** SPEC §8, STYLE §3: a poison message goes to the dead-letter topic with its error instead of blocking the partition. */
describe('poison messages', () => {
  let p: RunningPipeline;

  beforeAll(async () => {
    p = await startPipeline();
  });
  afterAll(async () => p.close());

  it('dead-letters an invalid message and goes on with the next one of the same partition', async () => {
    const userId = 'auth0|poisoned';
    expect((await p.gw.api('POST', '/api/v2/users', { user_id: userId })).status).toBe(201);
    expect((await p.gw.api('POST', '/api/v2/sessions', { id: 'ses-after-poison', user_id: userId })).status).toBe(201);
    const prefix = p.config.kafka.topicPrefix;
    const kafka = new Kafka({ brokers: p.config.kafka.brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    // Same key as the valid event that follows, so both land on one partition, poison first.
    await producer.send({
      topic: `${prefix}logout-requested.v1`,
      messages: [
        { key: userId, value: '{not json' },
        { key: userId, value: JSON.stringify({ eventId: 'e1', type: 'logout-requested', version: 1, occurredAt: new Date().toISOString(), correlationId: 'c1', payload: { userIds: [] } }) },
      ],
    });
    await producer.disconnect();

    expect((await p.gw.api('DELETE', `/api/v2/users/${encodeURIComponent(userId)}/sessions`)).status).toBe(202);
    await pollUntil(() => p.gw.api('GET', '/api/v2/sessions/ses-after-poison'), (r) => r.status === 404, {
      what: 'the valid event behind the poison to be handled',
    });

    const letters: { consumerGroup: string; error: string; value: string }[] = [];
    const consumer = kafka.consumer({ groupId: `dlq-reader-${Date.now()}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: `${prefix}dead-letter.v1`, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void letters.push(JSON.parse(message.value!.toString())) });
      // Two bad messages, seen by each of the two consumer groups.
      await pollUntil(async () => letters.length, (n) => n >= 4, { what: 'four dead letters' });
    } finally {
      await consumer.disconnect();
    }
    const summary = letters.map((l) => `${l.consumerGroup.slice(prefix.length)}: ${l.error.split(':')[0]}`).sort();
    expect(summary).toEqual([
      'refresh-token-revoker: invalid payload',
      'refresh-token-revoker: value is not JSON',
      'session-terminator: invalid payload',
      'session-terminator: value is not JSON',
    ]);
    expect(letters.find((l) => l.error === 'value is not JSON')!.value).toBe('{not json');
  });

  it('dead-letters a log event that breaks the schema, and stores the next one of the same partition', async () => {
    const prefix = p.config.kafka.topicPrefix;
    const streamer = await startLogStreamer({ KAFKA_TOPIC_PREFIX: prefix });
    const kafka = new Kafka({ brokers: p.config.kafka.brokers, logLevel: logLevel.NOTHING });
    try {
      const valid = buildLogEvent({ type: 'srrt', description: 'after the poison', user_id: 'auth0|after-poison' });
      const { type: _type, ...withoutType } = buildLogEvent({ type: 'srrt', description: 'poison' });
      const producer = kafka.producer();
      await producer.connect();
      // One key, so one partition: the poison first.
      await producer.send({
        topic: `${prefix}log-events`,
        messages: [
          { key: 'one-partition', value: JSON.stringify(withoutType) },
          { key: 'one-partition', value: JSON.stringify(valid) },
        ],
      });
      await producer.disconnect();

      await pollUntil(() => p.gw.api('GET', `/api/v2/logs/${valid.log_id}`), (r) => r.status === 200, {
        what: 'the valid log event behind the poison to be stored',
      });
      const letters: { consumerGroup: string; error: string; value: string }[] = [];
      const consumer = kafka.consumer({ groupId: `dlq-log-reader-${Date.now()}`, maxWaitTimeInMs: 100 });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic: `${prefix}dead-letter.v1`, fromBeginning: true });
        await consumer.run({ eachMessage: async ({ message }) => void letters.push(JSON.parse(message.value!.toString())) });
        await pollUntil(async () => letters.filter((l) => l.consumerGroup === `${prefix}log-streamer`).length, (n) => n >= 1, {
          what: "the log-streamer's dead letter",
        });
      } finally {
        await consumer.disconnect();
      }
      const [letter] = letters.filter((l) => l.consumerGroup === `${prefix}log-streamer`);
      expect(letter.error).toMatch(/^invalid log event: type: /);
      expect(letter.value).toBe(JSON.stringify(withoutType));
    } finally {
      await streamer.close();
    }
  });
});
