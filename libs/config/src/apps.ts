import { resolve } from 'node:path';
import { z } from 'zod';
import { parseEnv } from './env';
import {
  appEnv,
  backchannelEnv,
  consumerEnv,
  databaseEnv,
  gatewayOwnEnv,
  kafkaEnv,
  logStreamsEnv,
  outboundEnv,
  outboundTimeoutEnv,
  previousSecretEnv,
  publicBaseUrlEnv,
  retentionEnv,
  secretEnv,
  streamTopicPrefixEnv,
} from './sections';

export interface DatabaseConfig {
  url: string;
  poolSize: number;
}

export interface KafkaConfig {
  brokers: string[];
  topicPrefix: string;
}

/** What every app has: PersistenceModule and MessagingModule read this much. */
export interface AppConfig {
  database: DatabaseConfig;
  kafka: KafkaConfig;
  outbox: { pollIntervalMs: number };
  logLevel: string;
}

/** A consumer app (STYLE §1): its group's settings and its health port. */
export interface ConsumerConfig extends AppConfig {
  kafka: KafkaConfig & { commitIntervalMs: number; sessionTimeoutMs: number; partitionsConcurrently: number };
  /** Liveness and readiness; port undefined: the app's own default. */
  health: { host: string; port?: number };
}

export interface GatewayConfig extends AppConfig {
  publicBaseUrl: string;
  http: { port: number };
  management: { tokens: string[] };
  security: {
    allowPrivateNetworkUrls: boolean;
    clockSkewSeconds: number;
    signingKeyEncryptionSecret: string;
    jwksCooldownSeconds: number;
    jwksCacheMaxAgeSeconds: number;
    outboundTimeoutMs: number;
  };
  rateLimit: {
    perSecond: number;
    burst: number;
    unverifiedPerSource: { perSecond: number; burst: number };
    unverifiedOverall: { perSecond: number; burst: number };
  };
  rejectionLog: { perSecond: number; intervalSeconds: number };
  logoutStuckAfterSeconds: number;
  /** SPEC §9, RFC 8936: the poll delivery scheduler. */
  ssf: { pollIntervalMs: number };
  retention: RetentionConfig;
  /** LOG_STREAM_KAFKA_TOPIC_PREFIX: a kafka stream's topic must start with it. */
  logStreams: { kafkaTopicPrefix: string };
  /** CONSOLE_DIR, absolute: where the built operator console is. */
  console: { dir: string };
}

/** What the database keeps, in days (see retentionEnv), and how often it is pruned. */
export interface RetentionConfig {
  logDays: number;
  logoutRequestDays: number;
  parkedDeliveryDays: number;
  revokedCredentialDays: number;
  pruneIntervalMs: number;
}

export interface BackchannelDispatcherConfig extends ConsumerConfig {
  publicBaseUrl: string;
  security: { allowPrivateNetworkUrls: boolean; signingKeyEncryptionSecret: string };
  backchannel: {
    timeoutMs: number;
    retryBaseMs: number;
    retryMaxDelayMs: number;
    retryWindowSeconds: number;
    concurrency: number;
    concurrencyPerClient: number;
    pollIntervalMs: number;
  };
}

export interface LogStreamerConfig extends ConsumerConfig {
  security: { allowPrivateNetworkUrls: boolean; outboundTimeoutMs: number; signingKeyEncryptionSecret: string };
  logStreams: {
    batchSize: number;
    batchesPerStep: number;
    batchWindowMs: number;
    pollIntervalMs: number;
    retryBaseMs: number;
    retryMaxMs: number;
    maxFailures: number;
    leaseMs: number;
    fanoutRetentionHours: number;
    fanoutSweepIntervalMs: number;
    metricsPort: number;
    metricsHost: string;
    kafkaTopicPrefix: string;
    kafkaCreateTopics: boolean;
  };
}

/** `npm run db:migrate`. */
export interface MigrationConfig {
  database: DatabaseConfig;
}

/** `npm run secrets:reseal`. */
export interface ResealConfig {
  database: DatabaseConfig;
  security: { signingKeyEncryptionSecret: string; previousSigningKeyEncryptionSecret?: string };
}

/** `npm run dead-letter:replay`. */
export interface DeadLetterReplayConfig {
  kafka: KafkaConfig;
}

export const gatewayEnv = z.object({
  ...appEnv,
  ...publicBaseUrlEnv,
  ...outboundEnv,
  ...outboundTimeoutEnv,
  ...secretEnv,
  ...streamTopicPrefixEnv,
  ...gatewayOwnEnv,
  ...retentionEnv,
});
export const consumerAppEnv = z.object(consumerEnv);
export const backchannelDispatcherEnv = z.object({ ...consumerEnv, ...publicBaseUrlEnv, ...outboundEnv, ...secretEnv, ...backchannelEnv });
export const logStreamerEnv = z.object({ ...consumerEnv, ...outboundEnv, ...outboundTimeoutEnv, ...secretEnv, ...logStreamsEnv });
export const migrationEnv = z.object({ DATABASE_URL: databaseEnv.DATABASE_URL });
export const resealEnv = z.object({ ...databaseEnv, ...secretEnv, ...previousSecretEnv });
export const deadLetterReplayEnv = z.object(kafkaEnv);

const list = (csv: string) =>
  csv
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);

type AppEnv = z.infer<z.ZodObject<typeof appEnv>>;
type ConsumerEnv = z.infer<typeof consumerAppEnv>;

function appOf(e: AppEnv): AppConfig {
  return {
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE },
    kafka: { brokers: e.KAFKA_BROKERS.split(','), topicPrefix: e.KAFKA_TOPIC_PREFIX },
    outbox: { pollIntervalMs: e.OUTBOX_POLL_INTERVAL_MS },
    logLevel: e.LOG_LEVEL,
  };
}

function consumerOf(e: ConsumerEnv): ConsumerConfig {
  const app = appOf(e);
  return {
    ...app,
    kafka: {
      ...app.kafka,
      commitIntervalMs: e.KAFKA_COMMIT_INTERVAL_MS,
      sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
      partitionsConcurrently: e.KAFKA_PARTITIONS_CONCURRENTLY,
    },
    health: { host: e.HEALTH_HOST, port: e.HEALTH_PORT },
  };
}

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const e = parseEnv(gatewayEnv, env);
  return {
    ...appOf(e),
    publicBaseUrl: e.PUBLIC_BASE_URL,
    http: { port: e.PORT },
    management: { tokens: list(e.MANAGEMENT_API_TOKENS) },
    security: {
      allowPrivateNetworkUrls: e.ALLOW_PRIVATE_NETWORK_URLS,
      clockSkewSeconds: e.CLOCK_SKEW_SECONDS,
      signingKeyEncryptionSecret: e.SIGNING_KEY_ENCRYPTION_SECRET,
      jwksCooldownSeconds: e.JWKS_COOLDOWN_SECONDS,
      jwksCacheMaxAgeSeconds: e.JWKS_CACHE_MAX_AGE_SECONDS,
      outboundTimeoutMs: e.OUTBOUND_TIMEOUT_MS,
    },
    rateLimit: {
      perSecond: e.GTR_RATE_LIMIT_PER_SECOND,
      burst: e.GTR_RATE_LIMIT_BURST,
      unverifiedPerSource: { perSecond: e.GTR_UNVERIFIED_PER_SOURCE_PER_SECOND, burst: e.GTR_UNVERIFIED_PER_SOURCE_BURST },
      unverifiedOverall: { perSecond: e.GTR_UNVERIFIED_PER_SECOND, burst: e.GTR_UNVERIFIED_BURST },
    },
    rejectionLog: { perSecond: e.GTR_REJECTION_LOG_PER_SECOND, intervalSeconds: e.GTR_REJECTION_LOG_INTERVAL_SECONDS },
    logoutStuckAfterSeconds: e.LOGOUT_STUCK_AFTER_SECONDS,
    ssf: { pollIntervalMs: e.SSF_POLL_INTERVAL_MS },
    retention: {
      logDays: e.LOG_RETENTION_DAYS,
      logoutRequestDays: e.LOGOUT_REQUEST_RETENTION_DAYS,
      parkedDeliveryDays: e.PARKED_DELIVERY_RETENTION_DAYS,
      revokedCredentialDays: e.REVOKED_CREDENTIAL_RETENTION_DAYS,
      pruneIntervalMs: e.RETENTION_PRUNE_INTERVAL_MS,
    },
    logStreams: { kafkaTopicPrefix: e.LOG_STREAM_KAFKA_TOPIC_PREFIX },
    console: { dir: resolve(e.CONSOLE_DIR) },
  };
}

/** The session-terminator and the refresh-token-revoker read nothing beyond a consumer's settings. */
export function loadConsumerConfig(env: NodeJS.ProcessEnv = process.env): ConsumerConfig {
  return consumerOf(parseEnv(consumerAppEnv, env));
}

export function loadBackchannelDispatcherConfig(env: NodeJS.ProcessEnv = process.env): BackchannelDispatcherConfig {
  const e = parseEnv(backchannelDispatcherEnv, env);
  return {
    ...consumerOf(e),
    publicBaseUrl: e.PUBLIC_BASE_URL,
    security: { allowPrivateNetworkUrls: e.ALLOW_PRIVATE_NETWORK_URLS, signingKeyEncryptionSecret: e.SIGNING_KEY_ENCRYPTION_SECRET },
    backchannel: {
      timeoutMs: e.BACKCHANNEL_TIMEOUT_MS,
      retryBaseMs: e.BACKCHANNEL_RETRY_BASE_MS,
      retryMaxDelayMs: e.BACKCHANNEL_RETRY_MAX_DELAY_MS,
      retryWindowSeconds: e.BACKCHANNEL_RETRY_WINDOW_SECONDS,
      concurrency: e.BACKCHANNEL_CONCURRENCY,
      concurrencyPerClient: e.BACKCHANNEL_CONCURRENCY_PER_CLIENT,
      pollIntervalMs: e.BACKCHANNEL_POLL_INTERVAL_MS,
    },
  };
}

export function loadLogStreamerConfig(env: NodeJS.ProcessEnv = process.env): LogStreamerConfig {
  const e = parseEnv(logStreamerEnv, env);
  return {
    ...consumerOf(e),
    security: {
      allowPrivateNetworkUrls: e.ALLOW_PRIVATE_NETWORK_URLS,
      outboundTimeoutMs: e.OUTBOUND_TIMEOUT_MS,
      signingKeyEncryptionSecret: e.SIGNING_KEY_ENCRYPTION_SECRET,
    },
    logStreams: {
      batchSize: e.LOG_STREAM_BATCH_SIZE,
      batchesPerStep: e.LOG_STREAM_BATCHES_PER_STEP,
      batchWindowMs: e.LOG_STREAM_BATCH_WINDOW_MS,
      pollIntervalMs: e.LOG_STREAM_POLL_INTERVAL_MS,
      retryBaseMs: e.LOG_STREAM_RETRY_BASE_MS,
      retryMaxMs: e.LOG_STREAM_RETRY_MAX_MS,
      maxFailures: e.LOG_STREAM_MAX_FAILURES,
      leaseMs: e.LOG_STREAM_LEASE_MS,
      fanoutRetentionHours: e.LOG_STREAM_FANOUT_RETENTION_HOURS,
      fanoutSweepIntervalMs: e.LOG_STREAM_FANOUT_SWEEP_INTERVAL_MS,
      metricsPort: e.LOG_STREAMER_METRICS_PORT,
      metricsHost: e.LOG_STREAMER_METRICS_HOST,
      kafkaTopicPrefix: e.LOG_STREAM_KAFKA_TOPIC_PREFIX,
      kafkaCreateTopics: e.LOG_STREAM_KAFKA_CREATE_TOPICS,
    },
  };
}

export function loadMigrationConfig(env: NodeJS.ProcessEnv = process.env): MigrationConfig {
  const e = parseEnv(migrationEnv, env);
  return { database: { url: e.DATABASE_URL, poolSize: 1 } };
}

export function loadResealConfig(env: NodeJS.ProcessEnv = process.env): ResealConfig {
  const e = parseEnv(resealEnv, env);
  return {
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE },
    security: {
      signingKeyEncryptionSecret: e.SIGNING_KEY_ENCRYPTION_SECRET,
      previousSigningKeyEncryptionSecret: e.SIGNING_KEY_ENCRYPTION_SECRET_OLD,
    },
  };
}

export function loadDeadLetterReplayConfig(env: NodeJS.ProcessEnv = process.env): DeadLetterReplayConfig {
  const e = parseEnv(deadLetterReplayEnv, env);
  return { kafka: { brokers: e.KAFKA_BROKERS.split(','), topicPrefix: e.KAFKA_TOPIC_PREFIX } };
}
