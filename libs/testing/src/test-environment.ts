import { randomBytes } from 'node:crypto';
import { AppConfig, loadConfig } from '@ulo/config';

/** Written by the global setup, read by every test file of the run. */
export const TEST_DATABASE_ENV = 'ULO_TEST_DATABASE_URL';
export const TEST_PREFIX_ENV = 'ULO_TEST_TOPIC_PREFIX';
export const TEST_MANAGEMENT_TOKEN = 'test-management-token';

export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/**
 * The configuration of this test run: its own database and topic prefix, loopback URLs allowed.
 * Each call may take its own topic prefix so that tests of one run do not read each other's events.
 */
export function testConfig(overrides: Record<string, string> = {}): AppConfig {
  const databaseUrl = process.env[TEST_DATABASE_ENV];
  const prefix = process.env[TEST_PREFIX_ENV];
  if (!databaseUrl || !prefix) throw new Error('integration tests need the jest global setup (run `npm test`)');
  return loadConfig({
    ...process.env,
    DATABASE_URL: databaseUrl,
    KAFKA_TOPIC_PREFIX: prefix,
    MANAGEMENT_API_TOKENS: TEST_MANAGEMENT_TOKEN,
    ALLOW_PRIVATE_NETWORK_URLS: 'true',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    OUTBOX_POLL_INTERVAL_MS: '100',
    SIGNING_KEY_ENCRYPTION_SECRET: 'test-key-encryption-secret',
    BACKCHANNEL_POLL_INTERVAL_MS: '50',
    PORT: '0',
    HEALTH_PORT: '0',
    ...overrides,
  });
}
