import { envSchema, loadConfig } from './app-config';

describe('loadConfig (SPEC §1)', () => {
  it('applies the contract defaults', () => {
    const c = loadConfig({});
    expect(c.publicBaseUrl).toBe('http://127.0.0.1:3000');
    expect(c.http.port).toBe(3000);
    expect(c.database.url).toBe('postgres://postgres@127.0.0.1:5432/universal_logout');
    expect(c.kafka).toMatchObject({ brokers: ['127.0.0.1:9092'], topicPrefix: 'ulo.' });
    expect(c.management.tokens).toEqual([]);
    expect(c.security.allowPrivateNetworkUrls).toBe(false);
    expect(c.security.clockSkewSeconds).toBe(60);
  });

  it('splits comma-separated lists', () => {
    const c = loadConfig({ KAFKA_BROKERS: 'a:1,b:2', MANAGEMENT_API_TOKENS: 't1, t2,' });
    expect(c.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(c.management.tokens).toEqual(['t1', 't2']);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['PUBLIC_BASE_URL', 'http://example.com/'],
    ['PUBLIC_BASE_URL', 'ftp://example.com'],
    ['DATABASE_URL', 'mysql://x'],
    ['KAFKA_BROKERS', '127.0.0.1'],
    ['KAFKA_TOPIC_PREFIX', 'a b'],
    ['ALLOW_PRIVATE_NETWORK_URLS', 'yes'],
    ['CLOCK_SKEW_SECONDS', '-1'],
    ['LOG_LEVEL', 'loud'],
    ['SIGNING_KEY_ENCRYPTION_SECRET', 'short'],
    ['SIGNING_KEY_ENCRYPTION_SECRET_OLD', 'short'],
    ['LOG_STREAM_KAFKA_TOPIC_PREFIX', 'a b'],
    ['LOG_STREAM_KAFKA_TOPIC_PREFIX', '__consumer'],
    ['LOG_STREAM_KAFKA_CREATE_TOPICS', 'yes'],
  ])('rejects %s=%s naming the variable, not its value', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(new RegExp(`^invalid configuration: ${key} `));
    expect(() => loadConfig({ [key]: value })).not.toThrow(value);
  });

  it('never echoes a rejected value, whichever variable holds it (secrets, passwords in URLs)', () => {
    const value = 'p@ss-W0rd_that-must-stay-out-of-logs\u0001';
    let rejected = 0;
    for (const key of Object.keys(envSchema.shape)) {
      let message = '';
      try {
        loadConfig({ [key]: value });
        continue;
      } catch (err) {
        message = (err as Error).message;
      }
      rejected++;
      expect(message).toMatch(new RegExp(`^invalid configuration: ${key} \\S`));
      expect(message).not.toContain('p@ss');
      expect(message).not.toContain('out-of-logs');
    }
    expect(rejected).toBeGreaterThan(30);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://admin:hunter2-secret@db/x' })).toThrow(/^invalid configuration: DATABASE_URL must be a postgres:\/\/ URL$/);
  });

  it('reads the log stream Kafka settings: topics under logs. and not created unless asked', () => {
    expect(loadConfig({}).logStreams).toMatchObject({ kafkaTopicPrefix: 'logs.', kafkaCreateTopics: false });
    expect(loadConfig({ LOG_STREAM_KAFKA_TOPIC_PREFIX: 'siem-', LOG_STREAM_KAFKA_CREATE_TOPICS: 'true' }).logStreams).toMatchObject({
      kafkaTopicPrefix: 'siem-',
      kafkaCreateTopics: true,
    });
  });

  it('reads the previous key-encryption secret for the re-seal command', () => {
    const c = loadConfig({ SIGNING_KEY_ENCRYPTION_SECRET: 'the new secret, long enough', SIGNING_KEY_ENCRYPTION_SECRET_OLD: 'the old secret, long enough' });
    expect(c.security).toMatchObject({
      signingKeyEncryptionSecret: 'the new secret, long enough',
      previousSigningKeyEncryptionSecret: 'the old secret, long enough',
    });
    expect(loadConfig({}).security.previousSigningKeyEncryptionSecret).toBeUndefined();
  });
});
