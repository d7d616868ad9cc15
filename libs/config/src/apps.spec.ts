import { resolve } from 'node:path';
import {
  backchannelDispatcherEnv,
  consumerAppEnv,
  deadLetterReplayEnv,
  gatewayEnv,
  loadBackchannelDispatcherConfig,
  loadConsumerConfig,
  loadDeadLetterReplayConfig,
  loadGatewayConfig,
  loadLogStreamerConfig,
  loadMigrationConfig,
  loadResealConfig,
  logStreamerEnv,
  migrationEnv,
  resealEnv,
} from './apps';

const SECRET = { SIGNING_KEY_ENCRYPTION_SECRET: 'a key-encryption secret, long enough' };

describe('each app validates only what it uses (SPEC §1)', () => {
  it('applies the contract defaults', () => {
    const c = loadGatewayConfig(SECRET);
    expect(c.publicBaseUrl).toBe('http://127.0.0.1:3000');
    expect(c.http.port).toBe(3000);
    expect(c.database.url).toBe('postgres://postgres@127.0.0.1:5432/universal_logout');
    expect(c.kafka).toEqual({ brokers: ['127.0.0.1:9092'], topicPrefix: 'ulo.' });
    expect(c.management.tokens).toEqual([]);
    expect(c.security.allowPrivateNetworkUrls).toBe(false);
    expect(c.security.clockSkewSeconds).toBe(60);
    expect(c.console.dir).toBe(resolve(process.cwd(), 'dist/console'));
    expect(loadGatewayConfig({ ...SECRET, CONSOLE_DIR: '/srv/console' }).console.dir).toBe('/srv/console');
    expect(loadConsumerConfig({}).kafka).toEqual({
      brokers: ['127.0.0.1:9092'],
      topicPrefix: 'ulo.',
      commitIntervalMs: 500,
      sessionTimeoutMs: 10000,
      partitionsConcurrently: 6,
    });
  });

  it('splits comma-separated lists', () => {
    const c = loadGatewayConfig({ ...SECRET, KAFKA_BROKERS: 'a:1,b:2', MANAGEMENT_API_TOKENS: 't1, t2,' });
    expect(c.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(c.management.tokens).toEqual(['t1', 't2']);
  });

  it.each([
    ['gateway', () => loadGatewayConfig({})],
    ['backchannel-dispatcher', () => loadBackchannelDispatcherConfig({})],
    ['log-streamer', () => loadLogStreamerConfig({})],
    ['secrets:reseal', () => loadResealConfig({})],
  ])('the %s stops without SIGNING_KEY_ENCRYPTION_SECRET, naming it in one line', (_app, load) => {
    expect(load).toThrow(/^invalid configuration: SIGNING_KEY_ENCRYPTION_SECRET is required \(at least 16 characters\)$/);
  });

  it('the consumers that hold no secret start without one', () => {
    expect(() => loadConsumerConfig({})).not.toThrow();
    expect(() => loadMigrationConfig({})).not.toThrow();
    expect(() => loadDeadLetterReplayConfig({})).not.toThrow();
  });

  it("an app never fails on another app's variable", () => {
    const foreign = { PORT: 'eighty', GTR_RATE_LIMIT_PER_SECOND: 'lots', BACKCHANNEL_TIMEOUT_MS: '-1', LOG_STREAM_BATCH_SIZE: '1000' };
    expect(() => loadConsumerConfig(foreign)).not.toThrow();
    expect(() => loadLogStreamerConfig({ ...SECRET, PORT: 'eighty', BACKCHANNEL_TIMEOUT_MS: '-1' })).not.toThrow();
    expect(() => loadBackchannelDispatcherConfig({ ...SECRET, PORT: 'eighty', LOG_STREAM_BATCH_SIZE: '1000' })).not.toThrow();
    expect(() => loadGatewayConfig({ ...SECRET, BACKCHANNEL_TIMEOUT_MS: '-1', HEALTH_PORT: 'x' })).not.toThrow();
    expect(() => loadMigrationConfig({ KAFKA_BROKERS: 'nope', SIGNING_KEY_ENCRYPTION_SECRET: 'short' })).not.toThrow();
  });

  it('each app reads its own variables, written out', () => {
    const keys = (schema: { shape: object }) => Object.keys(schema.shape).sort();
    const app = ['DATABASE_POOL_SIZE', 'DATABASE_URL', 'KAFKA_BROKERS', 'KAFKA_TOPIC_PREFIX', 'LOG_LEVEL', 'OUTBOX_POLL_INTERVAL_MS'];
    const consumer = [...app, 'HEALTH_HOST', 'HEALTH_PORT', 'KAFKA_COMMIT_INTERVAL_MS', 'KAFKA_PARTITIONS_CONCURRENTLY', 'KAFKA_SESSION_TIMEOUT_MS'];
    expect(keys(consumerAppEnv)).toEqual([...consumer].sort());
    expect(keys(gatewayEnv)).toEqual(
      [
        ...app,
        'ALLOW_PRIVATE_NETWORK_URLS',
        'CLOCK_SKEW_SECONDS',
        'CONSOLE_DIR',
        'GTR_RATE_LIMIT_BURST',
        'GTR_RATE_LIMIT_PER_SECOND',
        'GTR_REJECTION_LOG_INTERVAL_SECONDS',
        'GTR_REJECTION_LOG_PER_SECOND',
        'GTR_UNVERIFIED_BURST',
        'GTR_UNVERIFIED_PER_SECOND',
        'GTR_UNVERIFIED_PER_SOURCE_BURST',
        'GTR_UNVERIFIED_PER_SOURCE_PER_SECOND',
        'JWKS_CACHE_MAX_AGE_SECONDS',
        'JWKS_COOLDOWN_SECONDS',
        'LOGOUT_REQUEST_RETENTION_DAYS',
        'LOGOUT_STUCK_AFTER_SECONDS',
        'LOG_RETENTION_DAYS',
        'LOG_STREAM_KAFKA_TOPIC_PREFIX',
        'MANAGEMENT_API_TOKENS',
        'OUTBOUND_TIMEOUT_MS',
        'PARKED_DELIVERY_RETENTION_DAYS',
        'PORT',
        'PUBLIC_BASE_URL',
        'RETENTION_PRUNE_INTERVAL_MS',
        'REVOKED_CREDENTIAL_RETENTION_DAYS',
        'SIGNING_KEY_ENCRYPTION_SECRET',
        'SSF_POLL_INTERVAL_MS',
      ].sort(),
    );
    expect(keys(backchannelDispatcherEnv)).toEqual(
      [
        ...consumer,
        'ALLOW_PRIVATE_NETWORK_URLS',
        'BACKCHANNEL_CONCURRENCY',
        'BACKCHANNEL_CONCURRENCY_PER_CLIENT',
        'BACKCHANNEL_POLL_INTERVAL_MS',
        'BACKCHANNEL_RETRY_BASE_MS',
        'BACKCHANNEL_RETRY_MAX_DELAY_MS',
        'BACKCHANNEL_RETRY_WINDOW_SECONDS',
        'BACKCHANNEL_TIMEOUT_MS',
        'PUBLIC_BASE_URL',
        'SIGNING_KEY_ENCRYPTION_SECRET',
      ].sort(),
    );
    expect(keys(logStreamerEnv)).toEqual(
      [
        ...consumer,
        'ALLOW_PRIVATE_NETWORK_URLS',
        'LOG_STREAMER_METRICS_HOST',
        'LOG_STREAMER_METRICS_PORT',
        'LOG_STREAM_BATCHES_PER_STEP',
        'LOG_STREAM_BATCH_SIZE',
        'LOG_STREAM_BATCH_WINDOW_MS',
        'LOG_STREAM_FANOUT_RETENTION_HOURS',
        'LOG_STREAM_FANOUT_SWEEP_INTERVAL_MS',
        'LOG_STREAM_KAFKA_CREATE_TOPICS',
        'LOG_STREAM_KAFKA_TOPIC_PREFIX',
        'LOG_STREAM_LEASE_MS',
        'LOG_STREAM_MAX_FAILURES',
        'LOG_STREAM_POLL_INTERVAL_MS',
        'LOG_STREAM_RETRY_BASE_MS',
        'LOG_STREAM_RETRY_MAX_MS',
        'OUTBOUND_TIMEOUT_MS',
        'SIGNING_KEY_ENCRYPTION_SECRET',
      ].sort(),
    );
    expect(keys(migrationEnv)).toEqual(['DATABASE_URL']);
    expect(keys(resealEnv)).toEqual(['DATABASE_POOL_SIZE', 'DATABASE_URL', 'SIGNING_KEY_ENCRYPTION_SECRET', 'SIGNING_KEY_ENCRYPTION_SECRET_OLD']);
    expect(keys(deadLetterReplayEnv)).toEqual(['KAFKA_BROKERS', 'KAFKA_TOPIC_PREFIX']);
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
    ['LOG_STREAM_KAFKA_TOPIC_PREFIX', 'a b'],
    ['LOG_STREAM_KAFKA_TOPIC_PREFIX', '__consumer'],
    ['LOG_RETENTION_DAYS', '0'],
    ['REVOKED_CREDENTIAL_RETENTION_DAYS', 'a week'],
    ['LOGOUT_REQUEST_RETENTION_DAYS', '3651'],
  ])('the gateway rejects %s=%s naming the variable, not its value', (key, value) => {
    expect(() => loadGatewayConfig({ ...SECRET, [key]: value })).toThrow(new RegExp(`^invalid configuration: ${key} `));
    expect(() => loadGatewayConfig({ ...SECRET, [key]: value })).not.toThrow(value);
  });

  it.each([
    ['LOG_STREAM_KAFKA_CREATE_TOPICS', 'yes'],
    ['LOG_STREAM_BATCH_SIZE', '101'],
    ['HEALTH_PORT', '-1'],
  ])('the log-streamer rejects %s=%s', (key, value) => {
    expect(() => loadLogStreamerConfig({ ...SECRET, [key]: value })).toThrow(new RegExp(`^invalid configuration: ${key} `));
  });

  it.each([
    ['gateway', gatewayEnv.shape, (env: NodeJS.ProcessEnv) => loadGatewayConfig({ ...SECRET, ...env })],
    ['backchannel-dispatcher', backchannelDispatcherEnv.shape, (env: NodeJS.ProcessEnv) => loadBackchannelDispatcherConfig({ ...SECRET, ...env })],
    ['log-streamer', logStreamerEnv.shape, (env: NodeJS.ProcessEnv) => loadLogStreamerConfig({ ...SECRET, ...env })],
    ['secrets:reseal', resealEnv.shape, (env: NodeJS.ProcessEnv) => loadResealConfig({ ...SECRET, ...env })],
  ])('the %s never echoes a rejected value, whichever variable holds it', (_app, shape, load) => {
    const value = 'p@ss-W0rd_that-must-stay-out-of-logs\u0001';
    let rejected = 0;
    for (const key of Object.keys(shape)) {
      let message = '';
      try {
        load({ [key]: value });
        continue;
      } catch (err) {
        message = (err as Error).message;
      }
      rejected++;
      expect(message).toMatch(new RegExp(`^invalid configuration: ${key} \\S`));
      expect(message).not.toContain('p@ss');
      expect(message).not.toContain('out-of-logs');
    }
    // Every variable that can reject this value did (the others take any text, or text this long).
    expect(rejected).toBeGreaterThan(1);
  });

  it('the gateway keeps the log and logout requests 30 days, parked deliveries 90, revoked credentials 7 by default', () => {
    expect(loadGatewayConfig({ ...SECRET }).retention).toEqual({
      logDays: 30,
      logoutRequestDays: 30,
      parkedDeliveryDays: 90,
      revokedCredentialDays: 7,
      pruneIntervalMs: 900000,
    });
  });

  it('never quotes a password in DATABASE_URL', () => {
    expect(() => loadMigrationConfig({ DATABASE_URL: 'mysql://admin:hunter2-secret@db/x' })).toThrow(
      /^invalid configuration: DATABASE_URL must be a postgres:\/\/ URL$/,
    );
  });

  it('reads the log stream Kafka settings: topics under logs. and not created unless asked', () => {
    expect(loadLogStreamerConfig(SECRET).logStreams).toMatchObject({ kafkaTopicPrefix: 'logs.', kafkaCreateTopics: false });
    expect(
      loadLogStreamerConfig({ ...SECRET, LOG_STREAM_KAFKA_TOPIC_PREFIX: 'siem-', LOG_STREAM_KAFKA_CREATE_TOPICS: 'true' }).logStreams,
    ).toMatchObject({ kafkaTopicPrefix: 'siem-', kafkaCreateTopics: true });
    expect(loadGatewayConfig({ ...SECRET, LOG_STREAM_KAFKA_TOPIC_PREFIX: 'siem-' }).logStreams).toEqual({ kafkaTopicPrefix: 'siem-' });
  });

  it('reads the previous key-encryption secret for the re-seal command', () => {
    const c = loadResealConfig({
      SIGNING_KEY_ENCRYPTION_SECRET: 'the new secret, long enough',
      SIGNING_KEY_ENCRYPTION_SECRET_OLD: 'the old secret, long enough',
    });
    expect(c.security).toEqual({
      signingKeyEncryptionSecret: 'the new secret, long enough',
      previousSigningKeyEncryptionSecret: 'the old secret, long enough',
    });
    expect(loadResealConfig(SECRET).security.previousSigningKeyEncryptionSecret).toBeUndefined();
    expect(() => loadResealConfig({ ...SECRET, SIGNING_KEY_ENCRYPTION_SECRET_OLD: 'short' })).toThrow(
      /^invalid configuration: SIGNING_KEY_ENCRYPTION_SECRET_OLD /,
    );
  });
});
