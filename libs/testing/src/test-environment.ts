import { randomBytes } from 'node:crypto';
import {
  BackchannelDispatcherConfig,
  ConsumerConfig,
  GatewayConfig,
  LogStreamerConfig,
  loadBackchannelDispatcherConfig,
  loadConsumerConfig,
  loadGatewayConfig,
  loadLogStreamerConfig,
} from '@ulo/config';

/** Written by the global setup, read by every test file of the run. */
export const TEST_DATABASE_ENV = 'ULO_TEST_DATABASE_URL';
export const TEST_PREFIX_ENV = 'ULO_TEST_TOPIC_PREFIX';
export const TEST_MANAGEMENT_TOKEN = 'test-management-token';

export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/**
 * The environment of this test run: its own database and topic prefix, loopback URLs allowed,
 * fast polling. Each call may take its own topic prefix so that tests of one run do not read each
 * other's events. Every app reads from it only the variables it uses.
 */
export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const databaseUrl = process.env[TEST_DATABASE_ENV];
  const prefix = process.env[TEST_PREFIX_ENV];
  if (!databaseUrl || !prefix) throw new Error('integration tests need the jest global setup (run `npm test`)');
  const inherited = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  return {
    ...inherited,
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
  };
}

/** A consumer's configuration in this test run: the database and Kafka settings every test needs. */
export function testConfig(overrides: Record<string, string> = {}): ConsumerConfig {
  return loadConsumerConfig(testEnv(overrides));
}

export const gatewayTestConfig = (overrides: Record<string, string> = {}): GatewayConfig => loadGatewayConfig(testEnv(overrides));

export const dispatcherTestConfig = (overrides: Record<string, string> = {}): BackchannelDispatcherConfig =>
  loadBackchannelDispatcherConfig(testEnv(overrides));

export const logStreamerTestConfig = (overrides: Record<string, string> = {}): LogStreamerConfig =>
  loadLogStreamerConfig(testEnv(overrides));
