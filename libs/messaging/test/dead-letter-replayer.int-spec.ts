import { Kafka, Producer, logLevel } from 'kafkajs';
import { DeadLetter, TopicName, Topics, prefixed } from '@ulo/contracts';
import { deleteTopicsWithPrefix, pollUntil, testConfig, uniqueSuffix } from '@ulo/testing';
import { DeadLetterReplayer, ensureTopics } from '@ulo/messaging';

/** SPEC §8 (the dead-letter topic can be replayed): `npm run dead-letter:replay` re-publishes dead-lettered messages to their source topics. */
describe('DeadLetterReplayer', () => {
  const config = testConfig();
  const kafka = new Kafka({ brokers: config.kafka.brokers, logLevel: logLevel.NOTHING });
  let producer: Producer;
  let prefix: string;
  let lines: string[];
  let replayer: DeadLetterReplayer;

  // Each test its own topics, replay group and producer (a producer that knew a deleted topic fails).
  beforeEach(async () => {
    prefix = `${config.kafka.topicPrefix}replay${uniqueSuffix()}.`;
    await ensureTopics(kafka, prefix);
    // A loaded broker may answer "not the leader" for a moment after it created a topic.
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const topic of Object.values(Topics)) {
        await pollUntil(
          () => admin.fetchTopicOffsets(prefixed(prefix, topic)).then(() => true, () => false),
          (ready) => ready,
          { what: `${topic} to have its leaders` },
        );
      }
    } finally {
      await admin.disconnect();
    }
    producer = kafka.producer();
    await producer.connect();
    lines = [];
    replayer = new DeadLetterReplayer(kafka, prefix, (line) => lines.push(line));
  });
  afterEach(async () => {
    await producer.disconnect();
    await deleteTopicsWithPrefix(kafka, prefix);
  });

  const letter = (topic: TopicName, key: string | null, value: string | null, offset: number): DeadLetter => ({
    sourceTopic: prefixed(prefix, topic),
    partition: 3,
    offset: String(offset),
    consumerGroup: `${prefix}session-terminator`,
    error: 'invalid payload: userIds: Required',
    value,
    key,
  });

  async function deadLetter(...letters: DeadLetter[]): Promise<void> {
    await producer.send({
      topic: prefixed(prefix, Topics.deadLetter),
      acks: -1,
      messages: letters.map((l) => ({ key: l.key, value: JSON.stringify(l) })),
    });
  }

  /** Every message of a source topic, in full: the high watermarks say how many there are. */
  async function messagesOf(topic: TopicName): Promise<{ key: string | null; value: string | null }[]> {
    const admin = kafka.admin();
    await admin.connect();
    const count = (await admin.fetchTopicOffsets(prefixed(prefix, topic))).reduce((n, p) => n + Number(p.high), 0);
    await admin.disconnect();
    const seen: { key: string | null; value: string | null }[] = [];
    if (count === 0) return seen;
    const consumer = kafka.consumer({ groupId: `${prefix}reader-${uniqueSuffix()}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: prefixed(prefix, topic), fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => void seen.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? null }),
      });
      await pollUntil(async () => seen.length, (n) => n >= count, { what: `${count} messages on ${topic}` });
    } finally {
      await consumer.disconnect();
    }
    return seen;
  }

  const byKey = (a: { key: string | null }, b: { key: string | null }) => String(a.key).localeCompare(String(b.key));

  it('re-publishes each letter to its source topic with its key, once, and skips a letter without a value', async () => {
    const first = JSON.stringify({ eventId: 'e1', payload: { userIds: ['auth0|a'] } });
    const second = '{not json';
    await deadLetter(
      letter(Topics.logoutRequested, 'auth0|a', first, 10),
      letter(Topics.logoutRequested, 'auth0|b', second, 11),
      letter(Topics.logoutRequested, 'auth0|c', null, 12),
    );

    expect(await replayer.replay()).toEqual({ replayed: 2, skipped: 1, left: 0 });
    expect((await messagesOf(Topics.logoutRequested)).sort(byKey)).toEqual([
      { key: 'auth0|a', value: first },
      { key: 'auth0|b', value: second },
    ]);
    expect(lines.filter((l) => l.startsWith('skipped'))).toEqual([
      `skipped 0@2: the dead-lettered message had no value (${prefix}logout-requested.v1 3@12)`,
    ]);

    expect(await replayer.replay()).toEqual({ replayed: 0, skipped: 0, left: 0 });
    expect(await messagesOf(Topics.logoutRequested)).toHaveLength(2);
  });

  it('replays nothing on a dry run, which then leaves every letter for the real run', async () => {
    await deadLetter(letter(Topics.sessionsTerminated, 'auth0|d', '{"eventId":"e4"}', 1), letter(Topics.sessionsTerminated, 'auth0|e', '{"eventId":"e5"}', 2));

    expect(await replayer.replay({ dryRun: true })).toEqual({ replayed: 2, skipped: 0, left: 0 });
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^would replay 0@0 to ${prefix.replace(/\./g, '\\.')}sessions-terminated\\.v1 key "auth0\\|d" \\(dead-lettered from 3@1 by `)),
      expect.stringMatching(/^would replay 0@1 to .* key "auth0\|e" /),
    ]);
    expect(await messagesOf(Topics.sessionsTerminated)).toEqual([]);

    expect(await replayer.replay()).toEqual({ replayed: 2, skipped: 0, left: 0 });
    expect((await messagesOf(Topics.sessionsTerminated)).map((m) => m.key).sort()).toEqual(['auth0|d', 'auth0|e']);
  });

  it('with a source topic, replays its letters and leaves the others for a later run', async () => {
    await deadLetter(
      letter(Topics.logoutRequested, 'auth0|f', '{"eventId":"e6"}', 1),
      letter(Topics.sessionsTerminated, 'auth0|g', '{"eventId":"e7"}', 2),
      letter(Topics.logoutRequested, 'auth0|h', '{"eventId":"e8"}', 3),
    );

    expect(await replayer.replay({ sourceTopic: Topics.logoutRequested })).toEqual({ replayed: 2, skipped: 0, left: 1 });
    expect(await messagesOf(Topics.sessionsTerminated)).toEqual([]);

    // The offset stayed before the letter left behind: the next run replays it, and the one behind it again.
    expect(await replayer.replay()).toEqual({ replayed: 2, skipped: 0, left: 0 });
    expect((await messagesOf(Topics.sessionsTerminated)).map((m) => m.key)).toEqual(['auth0|g']);
    expect((await messagesOf(Topics.logoutRequested)).map((m) => m.key).sort()).toEqual(['auth0|f', 'auth0|h', 'auth0|h']);
  });

  it('skips a letter whose source topic is not one of the deployment\'s, and an empty dead-letter topic is no work', async () => {
    expect(await replayer.replay()).toEqual({ replayed: 0, skipped: 0, left: 0 });
    await deadLetter({ ...letter(Topics.logoutRequested, 'auth0|i', '{}', 1), sourceTopic: 'someone-elses-topic' });

    expect(await replayer.replay()).toEqual({ replayed: 0, skipped: 1, left: 0 });
    expect(lines).toEqual([`skipped 0@0: source topic someone-elses-topic is not one of this deployment's topics`]);
  });
});
