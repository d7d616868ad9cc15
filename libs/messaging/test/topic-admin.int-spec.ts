import { Admin, ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { Topics, prefixed } from '@ulo/contracts';
import { pollUntil, testConfig, uniqueSuffix } from '@ulo/testing';
import { createTopicsIfMissing, ensureTopics } from '@ulo/messaging';

/** Topics are created by the services, replicated as the cluster allows (SPEC §8). */
describe('ensureTopics', () => {
  const config = testConfig();
  const kafka = new Kafka({ brokers: config.kafka.brokers, logLevel: logLevel.NOTHING });
  const admin: Admin = kafka.admin();
  let prefix: string;
  let brokerCount: number;

  beforeAll(async () => {
    await admin.connect();
    brokerCount = (await admin.describeCluster()).brokers.length;
  });
  afterAll(async () => admin.disconnect());

  beforeEach(() => {
    prefix = `${config.kafka.topicPrefix}admin${uniqueSuffix()}.`;
  });
  afterEach(async () => {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (mine.length) await admin.deleteTopics({ topics: mine });
  });

  /** The topics' metadata, once the broker asked knows them all (brokers learn of a new topic a moment apart). */
  async function metadataOf(names: string[]) {
    const metadata = await pollUntil(
      () => admin.fetchTopicMetadata({ topics: names }).catch(() => null),
      (m) => m !== null && m.topics.length === names.length,
      { what: `metadata of ${names.join(', ')}` },
    );
    return metadata!.topics;
  }

  // On the shared development broker (one node) that is one replica and min.insync.replicas=1.
  it("creates every topic of the catalogue with its partition count, replicated as the cluster's brokers allow", async () => {
    await ensureTopics(kafka, prefix);

    // Three replicas and two in sync from three brokers on; one and one below.
    const expected = brokerCount >= 3 ? { replicationFactor: 3, minInsyncReplicas: 2 } : { replicationFactor: 1, minInsyncReplicas: 1 };
    const partitions: Record<string, number> = {
      [`${prefix}logout-requested.v1`]: 12,
      [`${prefix}sessions-terminated.v1`]: 12,
      [`${prefix}dead-letter.v1`]: 1,
      [`${prefix}log-events`]: 6,
    };
    const names = Object.keys(partitions);
    // The catalogue names exactly these topics.
    expect(Object.values(Topics).map((t) => prefixed(prefix, t)).sort()).toEqual([...names].sort());
    const topics = await metadataOf(names);
    expect(Object.fromEntries(topics.map((t) => [t.name, t.partitions.length]))).toEqual(partitions);
    for (const metadata of topics) {
      for (const partition of metadata.partitions) expect(partition.replicas).toHaveLength(expected.replicationFactor);
    }
    const described = await pollUntil(
      () =>
        admin
          .describeConfigs({
            resources: names.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['min.insync.replicas', 'retention.ms'] })),
            includeSynonyms: false,
          })
          .catch(() => null),
      (d) => d !== null && d.resources.length === names.length,
      { what: 'the configuration of the topics' },
    );
    // Seven days (604800000 ms) for the pipeline and log-events, thirty for the dead letters.
    const retention: Record<string, string> = {
      [`${prefix}logout-requested.v1`]: '604800000',
      [`${prefix}sessions-terminated.v1`]: '604800000',
      [`${prefix}dead-letter.v1`]: '2592000000',
      [`${prefix}log-events`]: '604800000',
    };
    for (const resource of described!.resources) {
      const entries = [...resource.configEntries].sort((a, b) => a.configName.localeCompare(b.configName));
      expect(entries).toEqual([
        expect.objectContaining({ configName: 'min.insync.replicas', configValue: String(expected.minInsyncReplicas), isDefault: false }),
        expect.objectContaining({ configName: 'retention.ms', configValue: retention[resource.resourceName], isDefault: false }),
      ]);
    }
  });

  it('leaves an existing topic as it is, and two instances creating the same topics at once both succeed', async () => {
    const first = prefixed(prefix, Topics.logoutRequested);
    const second = prefixed(prefix, Topics.sessionsTerminated);
    expect(await createTopicsIfMissing(kafka, [{ topic: first, numPartitions: 2 }])).toEqual([first]);

    const created = await Promise.all([
      createTopicsIfMissing(kafka, [
        { topic: first, numPartitions: 4 },
        { topic: second, numPartitions: 3 },
      ]),
      createTopicsIfMissing(kafka, [{ topic: second, numPartitions: 3 }]),
    ]);

    // Each instance names the topics it found missing; the one that lost the race is not an error.
    expect(created.flat()).toContain(second);
    const topics = await metadataOf([first, second]);
    expect(topics.find((t) => t.name === first)!.partitions).toHaveLength(2);
    expect(topics.find((t) => t.name === second)!.partitions).toHaveLength(3);
  });
});
