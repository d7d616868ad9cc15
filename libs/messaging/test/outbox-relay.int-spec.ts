import { Kafka, Producer, ProducerBatch, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { DeadLetter, Topics, prefixed } from '@ulo/contracts';
import { OutboxRelay, createKafka } from '@ulo/messaging';
import { OutboxRepository, createDataSource } from '@ulo/persistence';
import { deleteTopicsWithPrefix, pollUntil, testConfig, truncateAll, uniqueSuffix } from '@ulo/testing';

/** SPEC §8: the outbox relay never wedges, and waits without Kafka. */
describe('OutboxRelay', () => {
  const config = testConfig();
  const kafka = new Kafka({ brokers: config.kafka.brokers, logLevel: logLevel.NOTHING });
  let dataSource: DataSource;
  let prefix: string;
  let relay: OutboxRelay | null;

  beforeAll(async () => {
    dataSource = createDataSource(config.database.url);
    await dataSource.initialize();
  });
  afterAll(async () => dataSource.destroy());

  beforeEach(async () => {
    prefix = `${config.kafka.topicPrefix}relay${uniqueSuffix()}.`;
    relay = null;
    await truncateAll(dataSource);
  });
  afterEach(async () => {
    await relay?.stop();
    await deleteTopicsWithPrefix(kafka, prefix);
  });

  /** A topic of this test whose messages (record batches) the broker takes up to `maxMessageBytes`. */
  async function createTopic(topic: string, numPartitions: number, maxMessageBytes: number): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [{ topic, numPartitions, configEntries: [{ name: 'max.message.bytes', value: String(maxMessageBytes) }] }],
        // kafkajs' own wait gives up at the first "unknown topic" of a broker that has not seen it yet.
        waitForLeaders: false,
      });
      await pollUntil(() => admin.fetchTopicOffsets(topic).then(() => true, () => false), (ready) => ready, { what: `${topic} to have its leaders` });
    } finally {
      await admin.disconnect();
    }
  }

  /** Rows as a producer's transaction writes them; their ids, in order. */
  async function insertRows(rows: { topic: string; key: string | null; value: string }[]): Promise<string[]> {
    const inserted: { id: string }[] = await dataSource.query(
      `INSERT INTO outbox (topic, message_key, value)
       SELECT topic, message_key, value FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS r (topic, message_key, value, n)
       ORDER BY n RETURNING id`,
      [rows.map((r) => r.topic), rows.map((r) => r.key), rows.map((r) => r.value)],
    );
    return inserted.map((r) => String(r.id));
  }

  const outboxCount = async () => Number((await dataSource.query(`SELECT count(*)::int AS n FROM outbox`))[0].n);

  /** Every message of `topic`, in full and in partition order: the high watermarks say how many there are. */
  async function messagesOf(topic: string): Promise<{ partition: number; key: string | null; value: string }[]> {
    const admin = kafka.admin();
    await admin.connect();
    const count = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
    await admin.disconnect();
    const seen: { partition: number; offset: number; key: string | null; value: string }[] = [];
    if (count === 0) return [];
    const consumer = kafka.consumer({ groupId: `${prefix}reader-${uniqueSuffix()}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) =>
          void seen.push({ partition, offset: Number(message.offset), key: message.key?.toString() ?? null, value: message.value!.toString() }),
      });
      await pollUntil(async () => seen.length, (n) => n >= count, { what: `${count} messages on ${topic}` });
    } finally {
      await consumer.disconnect();
    }
    return seen.sort((a, b) => a.partition - b.partition || a.offset - b.offset).map(({ partition, key, value }) => ({ partition, key, value }));
  }

  /** The relay's Kafka client, with each produce request's bytes (keys and values) recorded. */
  function recording(requests: number[]): Kafka {
    const client = new Kafka({ brokers: config.kafka.brokers, logLevel: logLevel.NOTHING });
    const producer = client.producer.bind(client);
    client.producer = (options) => {
      const p: Producer = producer(options);
      const sendBatch = p.sendBatch.bind(p);
      p.sendBatch = (batch: ProducerBatch) => {
        let bytes = 0;
        for (const { messages } of batch.topicMessages ?? []) {
          for (const m of messages) bytes += Buffer.byteLength(String(m.value ?? '')) + Buffer.byteLength(String(m.key ?? ''));
        }
        requests.push(bytes);
        return sendBatch(batch);
      };
      return p;
    };
    return client;
  }

  /** Starts the relay (it connects in the background) and waits until it can publish. */
  async function startRelay(client: Kafka, maxBatchBytes?: number): Promise<OutboxRelay> {
    // Polls rarely: the rows are published by the drain() of the test (and the one kick after connecting).
    relay = new OutboxRelay(dataSource, new OutboxRepository(), client, { pollIntervalMs: 60_000, topicPrefix: prefix, maxBatchBytes });
    relay.start();
    const started = relay;
    await pollUntil(async () => started.problem, (p) => p === null, { timeoutMs: 30_000, what: 'the relay to connect' });
    return started;
  }

  it('sends batches bounded in bytes, publishes every row in order per key, and empties the outbox', async () => {
    const topic = `${prefix}bounded`;
    // A broker limit that one request of all 50 rows (about 50 KB) would break, but a bounded batch keeps.
    await createTopic(topic, 3, 16 * 1024);
    const keys = ['user|a', 'user|b', 'user|c', 'user|d', 'user|e'];
    const rows = Array.from({ length: 50 }, (_, i) => {
      const key = keys[i % keys.length];
      const head = JSON.stringify({ key, seq: i });
      return { topic, key, value: head + ' '.repeat(1024 - head.length) };
    });
    await insertRows(rows);
    const requests: number[] = [];

    const started = await startRelay(recording(requests), 10 * 1024);
    await started.drain();
    // A drain started by the relay itself when it connected may hold the last rows for a moment.
    await pollUntil(outboxCount, (n) => n === 0, { what: 'the outbox to be empty' });

    const published = await messagesOf(topic);
    expect(published).toHaveLength(50);
    for (const key of keys) {
      const ofKey = published.filter((m) => m.key === key);
      expect(new Set(ofKey.map((m) => m.partition)).size).toBe(1);
      expect(ofKey.map((m) => JSON.parse(m.value.trimEnd()).seq)).toEqual(rows.filter((r) => r.key === key).map((r) => JSON.parse(r.value.trimEnd()).seq));
    }
    // Every request within the bound, so the 50 rows took several; nothing was refused or dead-lettered.
    expect(requests.length).toBeGreaterThanOrEqual(5);
    for (const bytes of requests) expect(bytes).toBeLessThanOrEqual(10 * 1024);
    expect(requests.reduce((a, b) => a + b, 0)).toBe(rows.reduce((n, r) => n + r.value.length + r.key.length, 0));
    expect(await messagesOf(prefixed(prefix, Topics.deadLetter))).toEqual([]);
  });

  it('dead-letters the one row the broker refuses for good and publishes the rows behind it', async () => {
    const topic = `${prefix}small-messages`;
    await createTopic(topic, 1, 4096);
    const key = 'user|big';
    const a = JSON.stringify({ row: 'A' });
    const b = JSON.stringify({ row: 'B', padding: 'x'.repeat(8 * 1024) });
    const c = JSON.stringify({ row: 'C' });
    const [, idB] = await insertRows([
      { topic, key, value: a },
      { topic, key, value: b },
      { topic, key, value: c },
    ]);

    const started = await startRelay(kafka);
    await started.drain();
    await pollUntil(outboxCount, (n) => n === 0, { what: 'the outbox to be empty' });

    expect((await messagesOf(topic)).map((m) => ({ key: m.key, value: m.value }))).toEqual([
      { key, value: a },
      { key, value: c },
    ]);
    const letters = (await messagesOf(prefixed(prefix, Topics.deadLetter))).map((m) => JSON.parse(m.value) as DeadLetter);
    expect(letters).toEqual([
      {
        sourceTopic: topic,
        partition: -1,
        offset: `outbox:${idB}`,
        consumerGroup: 'outbox-relay',
        error: expect.stringMatching(new RegExp(`^the broker refused outbox row ${idB} for ${topic.replace(/\./g, '\\.')}: .*larger than the max message size`)),
        value: b,
        key,
      },
    ]);
  });

  it('starts without Kafka, keeps the rows and reports Kafka unreachable', async () => {
    // The client the apps build (createKafka), pointed at a port where nothing listens.
    const deadKafka = createKafka(testConfig({ KAFKA_BROKERS: '127.0.0.1:1' }), 'relay-without-kafka');
    const topic = prefixed(prefix, Topics.logoutRequested);
    await insertRows([{ topic, key: 'user|waiting', value: '{"waiting":true}' }]);

    relay = new OutboxRelay(dataSource, new OutboxRepository(), deadKafka, { pollIntervalMs: 100, topicPrefix: prefix });
    const started = relay;
    expect(() => started.start()).not.toThrow();
    expect(started.problem).toMatch(/Kafka/);
    started.kick();

    const problem = await pollUntil(async () => started.problem, (p) => p !== null && p.startsWith('Kafka unreachable'), {
      timeoutMs: 45_000,
      intervalMs: 200,
      what: 'the relay to report Kafka unreachable',
    });
    expect(problem).toMatch(/^Kafka unreachable: .+/);
    expect(await dataSource.query(`SELECT topic, message_key, value FROM outbox`)).toEqual([
      { topic, message_key: 'user|waiting', value: '{"waiting":true}' },
    ]);
  }, 90_000);
});
