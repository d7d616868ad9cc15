import { Controller, DynamicModule, Module } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Kafka, logLevel } from 'kafkajs';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig, ConfigModule } from '@ulo/config';
import { DeadLetter, Envelope, LogoutRequested, Topics, prefixed } from '@ulo/contracts';
import { BatchContext, BatchResult, ConsumerApp, OutboxWriter, PoisonMessageException, startConsumerApp } from '@ulo/messaging';
import { OutboxRepository, PersistenceModule } from '@ulo/persistence';
import { deleteTopicsWithPrefix, pollUntil, testConfig, uniqueSuffix } from '@ulo/testing';

/** What the probe handler does with one logout request (by correlation id), and what it saw. */
interface Plan {
  /** Thrown, failing the whole batch, by the first `failures` attempts. */
  failures: number;
  error: () => Error;
  attempts: number;
  /** Instead of throwing: answered as rejected (BatchResult), the rest of the batch handled. */
  rejects?: boolean;
}

const plans = new Map<string, Plan>();
/** Each successful handling: correlation id, partition, offset. */
const handled: { correlationId: string; partition: number; offset: string }[] = [];
/** The size of every batch the handler was given. */
const batchSizes: number[] = [];

@Controller()
class ProbeHandler {
  /** Handles the batch in order; a planned failure fails the whole batch, a planned rejection only its event. */
  @EventPattern(Topics.logoutRequested)
  onLogoutRequested(@Payload() events: Envelope<LogoutRequested>[], @Ctx() ctx: BatchContext): BatchResult {
    batchSizes.push(events.length);
    const done: typeof handled = [];
    const rejected: { index: number; reason: string }[] = [];
    events.forEach((event, index) => {
      const plan = plans.get(event.correlationId);
      if (plan && ++plan.attempts <= plan.failures) {
        if (!plan.rejects) throw plan.error();
        rejected.push({ index, reason: plan.error().message });
        return;
      }
      done.push({ correlationId: event.correlationId, partition: ctx.partition, offset: ctx.origins[index].offset });
    });
    handled.push(...done);
    return { rejected };
  }
}

/** A consumer app of one handler, wired as the real ones are. */
@Module({})
class ProbeModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ProbeModule,
      imports: [ConfigModule.forRoot(config), LoggerModule.forRoot({ pinoHttp: { level: config.logLevel } }), PersistenceModule.forRoot()],
      controllers: [ProbeHandler],
    };
  }
}

/** SPEC §8: transient failures are retried without limit; only poison is dead-lettered. */
describe('KafkaEventServer', () => {
  const config = testConfig();
  const kafka = new Kafka({ brokers: config.kafka.brokers, logLevel: logLevel.NOTHING });
  const prefix = `${config.kafka.topicPrefix}kes${uniqueSuffix()}.`;
  // startConsumerApp names the group after the app.
  const groupId = `${prefix}probe`;
  const topic = prefixed(prefix, Topics.logoutRequested);
  const writer = new OutboxWriter(prefix, new OutboxRepository());
  let probe: ConsumerApp;

  async function startProbe(brokers?: string): Promise<ConsumerApp> {
    const appConfig = testConfig({ KAFKA_TOPIC_PREFIX: prefix, ...(brokers ? { KAFKA_BROKERS: brokers } : {}) });
    return startConsumerApp('probe', ProbeModule.forRoot(appConfig), appConfig);
  }

  beforeAll(async () => {
    probe = await startProbe();
    await pollUntil(async () => probe.server.isConsuming, (joined) => joined, { timeoutMs: 45_000, what: 'the probe to join its group' });
  }, 60_000);
  afterAll(async () => {
    await probe.app.close();
    await deleteTopicsWithPrefix(kafka, prefix);
  });

  /** A valid logout-requested message per correlation id, all with `key`: one partition, in this order. */
  async function publish(key: string, correlationIds: string[]): Promise<{ partition: number; offsets: string[]; values: string[] }> {
    const values = correlationIds.map(
      (id) =>
        writer.event(Topics.logoutRequested, key, id, {
          requestId: id,
          initiator: 'idp-logout',
          userIds: [key],
          connection: null,
          sessions: { mode: 'all' },
          refreshTokens: { mode: 'all' },
          acceptedAt: new Date().toISOString(),
        }).value,
    );
    const producer = kafka.producer();
    await producer.connect();
    try {
      const [sent] = await producer.send({ topic, acks: -1, messages: values.map((value) => ({ key, value })) });
      const base = BigInt(sent.baseOffset!);
      return { partition: sent.partition, offsets: values.map((_, i) => String(base + BigInt(i))), values };
    } finally {
      await producer.disconnect();
    }
  }

  /** The group's committed offset of `partition` once it reaches `offset`. */
  async function committedReaches(partition: number, offset: bigint): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await pollUntil(
        async () => {
          const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
          return BigInt(committed.partitions.find((p) => p.partition === partition)?.offset ?? '-1');
        },
        (committedOffset) => committedOffset >= offset,
        { what: `the committed offset of partition ${partition} to reach ${offset}` },
      );
    } finally {
      await admin.disconnect();
    }
  }

  /** The dead letters of `key` (each test uses its own key). */
  async function deadLettersOf(key: string): Promise<DeadLetter[]> {
    const deadLetterTopic = prefixed(prefix, Topics.deadLetter);
    const admin = kafka.admin();
    await admin.connect();
    const count = (await admin.fetchTopicOffsets(deadLetterTopic)).reduce((n, p) => n + Number(p.high), 0);
    await admin.disconnect();
    if (count === 0) return [];
    const letters: DeadLetter[] = [];
    const consumer = kafka.consumer({ groupId: `${prefix}dlq-reader-${uniqueSuffix()}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: deadLetterTopic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void letters.push(JSON.parse(message.value!.toString()) as DeadLetter) });
      await pollUntil(async () => letters.length, (n) => n >= count, { what: `${count} dead letters` });
    } finally {
      await consumer.disconnect();
    }
    return letters.filter((l) => l.key === key);
  }

  it.each([
    ['57P01 (the database shut down)', () => Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['a plain Error', () => new Error('something went wrong, for a while')],
  ])(
    'retries a message whose handler fails with %s six times, handles it once, and moves on',
    async (_name, error) => {
      const key = `user|retried-${uniqueSuffix()}`;
      const [failing, next] = [`failing-${uniqueSuffix()}`, `next-${uniqueSuffix()}`];
      plans.set(failing, { failures: 6, error, attempts: 0 });

      const { partition, offsets } = await publish(key, [failing, next]);
      await pollUntil(async () => handled.some((h) => h.correlationId === next), Boolean, {
        timeoutMs: 100_000,
        intervalMs: 200,
        what: 'the message behind the failing one to be handled',
      });

      expect(plans.get(failing)!.attempts).toBe(7);
      expect(handled.filter((h) => h.correlationId === failing || h.correlationId === next)).toEqual([
        { correlationId: failing, partition, offset: offsets[0] },
        { correlationId: next, partition, offset: offsets[1] },
      ]);
      await committedReaches(partition, BigInt(offsets[1]) + 1n);
      expect(await deadLettersOf(key)).toEqual([]);
    },
    120_000,
  );

  it('dead-letters a valid message whose handler rejects it, and handles the rest of its batch once', async () => {
    const key = `user|poison-${uniqueSuffix()}`;
    const [poison, next] = [`poison-${uniqueSuffix()}`, `next-${uniqueSuffix()}`];
    plans.set(poison, {
      failures: Number.MAX_SAFE_INTEGER,
      error: () => new PoisonMessageException(`unknown logout request ${poison}`),
      attempts: 0,
      rejects: true,
    });

    const { partition, offsets, values } = await publish(key, [poison, next]);
    await pollUntil(async () => handled.some((h) => h.correlationId === next), Boolean, { what: 'the message behind the poison to be handled' });

    expect(plans.get(poison)!.attempts).toBe(1);
    expect(handled.filter((h) => h.correlationId === poison || h.correlationId === next)).toEqual([
      { correlationId: next, partition, offset: offsets[1] },
    ]);
    expect(await deadLettersOf(key)).toEqual([
      { sourceTopic: topic, partition, offset: offsets[0], consumerGroup: groupId, error: `unknown logout request ${poison}`, value: values[0], key },
    ]);
    await committedReaches(partition, BigInt(offsets[1]) + 1n);
  });

  it('splits a batch whose handler throws poison, dead-letters only the message at fault, and handles its neighbours once', async () => {
    const key = `user|split-${uniqueSuffix()}`;
    const [before, poison, after] = [`before-${uniqueSuffix()}`, `poison-${uniqueSuffix()}`, `after-${uniqueSuffix()}`];
    plans.set(poison, { failures: Number.MAX_SAFE_INTEGER, error: () => new PoisonMessageException(`cannot handle ${poison}`), attempts: 0 });

    const { partition, offsets, values } = await publish(key, [before, poison, after]);
    await pollUntil(async () => handled.some((h) => h.correlationId === after), Boolean, { what: 'the message behind the poison to be handled' });

    expect(handled.filter((h) => [before, poison, after].includes(h.correlationId))).toEqual([
      { correlationId: before, partition, offset: offsets[0] },
      { correlationId: after, partition, offset: offsets[2] },
    ]);
    expect(await deadLettersOf(key)).toEqual([
      { sourceTopic: topic, partition, offset: offsets[1], consumerGroup: groupId, error: `cannot handle ${poison}`, value: values[1], key },
    ]);
    await committedReaches(partition, BigInt(offsets[2]) + 1n);
  });

  it('hands a handler the messages of a fetch as one batch, in order', async () => {
    const key = `user|batch-${uniqueSuffix()}`;
    const ids = Array.from({ length: 50 }, (_, i) => `batched-${i}-${uniqueSuffix()}`);
    const sizesBefore = batchSizes.length;
    const { partition, offsets } = await publish(key, ids);
    await pollUntil(async () => handled.filter((h) => ids.includes(h.correlationId)).length, (n) => n === ids.length, { what: 'the 50 messages' });

    expect(handled.filter((h) => ids.includes(h.correlationId))).toEqual(ids.map((id, i) => ({ correlationId: id, partition, offset: offsets[i] })));
    // 50 messages sent at once arrive in far fewer batches than messages.
    expect(batchSizes.length - sizesBefore).toBeLessThan(10);
    expect(Math.max(...batchSizes.slice(sizesBefore))).toBeGreaterThan(1);
    await committedReaches(partition, BigInt(offsets[49]) + 1n);
  });

  it('starts without Kafka, keeps the process alive, is not consuming, and closes within seconds', async () => {
    const crashes: unknown[] = [];
    const record = (err: unknown) => crashes.push(err);
    process.on('unhandledRejection', record);
    process.on('uncaughtException', record);
    try {
      const started = Date.now();
      const withoutKafka = await startProbe('127.0.0.1:1');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(withoutKafka.server.isConsuming).toBe(false);
      // At least one attempt to reach the broker failed, and was survived.
      const problem = await pollUntil(async () => withoutKafka.server.problem, (p) => p !== null && p !== 'not joined to the consumer group yet', {
        timeoutMs: 45_000,
        intervalMs: 200,
        what: 'a failed attempt to reach Kafka',
      });
      expect(problem).toMatch(/ECONNREFUSED|Connection error/);
      expect(withoutKafka.server.isConsuming).toBe(false);

      const closing = Date.now();
      await withoutKafka.app.close();
      expect(Date.now() - closing).toBeLessThan(8_000);
      expect(crashes).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
      process.off('uncaughtException', record);
    }
  }, 90_000);
});
