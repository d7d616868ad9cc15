import { z } from 'zod';
import { bool, httpUrl, port, positiveInt, secret } from './env';

/**
 * The environment, in sections: each app's schema is the sections it uses (apps.ts), so a
 * variable is declared, defaulted and documented once.
 */

export const databaseEnv = {
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .default('postgres://postgres@127.0.0.1:5432/universal_logout'),
  /** Connections each process keeps to PostgreSQL at most. */
  DATABASE_POOL_SIZE: positiveInt(10),
};

export const kafkaEnv = {
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'must be host:port[,host:port...]')
    .default('127.0.0.1:9092'),
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/, 'may hold only letters, digits, ".", "_" and "-"')
    .default('ulo.'),
};

/** Every app that writes to the outbox and relays it. */
export const appEnv = {
  ...databaseEnv,
  ...kafkaEnv,
  OUTBOX_POLL_INTERVAL_MS: positiveInt(500),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

/** Every consumer app: its consumer group and its health port. */
export const consumerEnv = {
  ...appEnv,
  /** How often consumers commit handled offsets; a crash before a commit means a (harmless) redelivery. */
  KAFKA_COMMIT_INTERVAL_MS: positiveInt(500),
  /** A consumer instance that stops heartbeating loses its partitions to the others after this long. */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(10000),
  KAFKA_PARTITIONS_CONCURRENTLY: positiveInt(6),
  /** Where a consumer app serves GET /health/live and /health/ready; unset: its own port (README), 0: any free port. */
  HEALTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
};

export const publicBaseUrlEnv = {
  PUBLIC_BASE_URL: httpUrl.refine((u) => !u.endsWith('/'), 'must not end with a slash').default('http://127.0.0.1:3000'),
};

/** Outbound HTTP (SPEC §4 URL rules): who may be called. */
export const outboundEnv = {
  ALLOW_PRIVATE_NETWORK_URLS: bool.default('false'),
};

/** Encrypts secrets at rest (signing keys, log stream credentials): required by the apps that read them. */
export const secretEnv = {
  SIGNING_KEY_ENCRYPTION_SECRET: secret,
};

export const gatewayOwnEnv = {
  PORT: port(3000),
  MANAGEMENT_API_TOKENS: z.string().default(''),
  CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(600).default(60),
  GTR_RATE_LIMIT_PER_SECOND: positiveInt(200),
  GTR_RATE_LIMIT_BURST: positiveInt(400),
  /**
   * Revocation requests without a verified token, per source address (an IPv6 address per /64),
   * per gateway instance: a token bucket charged by each request that fails before its token verified.
   */
  GTR_UNVERIFIED_PER_SOURCE_PER_SECOND: positiveInt(20),
  GTR_UNVERIFIED_PER_SOURCE_BURST: positiveInt(100),
  /** The same, all sources together (sources that sent a verified token recently are exempt). */
  GTR_UNVERIFIED_PER_SECOND: positiveInt(1000),
  GTR_UNVERIFIED_BURST: positiveInt(2000),
  /** Rejected revocation requests logged one by one per connection per second; the rest are counted. */
  GTR_REJECTION_LOG_PER_SECOND: positiveInt(5),
  /** How often the counted rejections are written, as one aggregated universal_logout_failed per connection. */
  GTR_REJECTION_LOG_INTERVAL_SECONDS: positiveInt(10),
  JWKS_COOLDOWN_SECONDS: z.coerce.number().int().min(1).default(30),
  JWKS_CACHE_MAX_AGE_SECONDS: positiveInt(600),
  /** How often connections with `options.ssf.delivery` "poll" are polled for SETs (RFC 8936). */
  SSF_POLL_INTERVAL_MS: positiveInt(10000),
  /** A logout request not complete after this long is announced again (SPEC §8); every step is idempotent. */
  LOGOUT_STUCK_AFTER_SECONDS: positiveInt(60),
  /** The operator console's bundle (`npm run build` writes it), served at /console; relative to the working directory. */
  CONSOLE_DIR: z.string().min(1).default('dist/console'),
};

/**
 * What the database keeps, and for how long (the gateway prunes, in bounded chunks and by dropping
 * whole days of the log). Longer keeping of the log is a log stream's job.
 */
export const retentionEnv = {
  /** Days of log events kept for GET /api/v2/logs (an event still queued for a log stream is kept). */
  LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Days a complete logout request, with its back-channel deliveries, is kept after it completed. */
  LOGOUT_REQUEST_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Days a parked back-channel delivery stays replayable after it was parked; its request stays with it. */
  PARKED_DELIVERY_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** Days a revoked session or refresh token is kept after its revocation. */
  REVOKED_CREDENTIAL_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
  /** How often each gateway instance prunes (and creates the log's partitions for the coming days). */
  RETENTION_PRUNE_INTERVAL_MS: z.coerce.number().int().min(1000).default(900_000),
};

/** Deadline of each outbound exchange (discovery, JWKS, log-stream webhooks), connect to last body byte. */
export const outboundTimeoutEnv = {
  OUTBOUND_TIMEOUT_MS: positiveInt(5000),
};

/**
 * Every kafka log stream's topic starts with it (SPEC §5 sink.topic), so that a stream cannot
 * publish into this deployment's own topics or another deployment's. The gateway checks it when a
 * stream is written, the log-streamer when it delivers.
 */
export const streamTopicPrefixEnv = {
  LOG_STREAM_KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'must be 1 to 200 letters, digits, ".", "_" or "-"')
    .refine((p) => !p.startsWith('__'), 'must not start with "__" (Kafka internal topics)')
    .default('logs.'),
};

/** OIDC Back-Channel Logout delivery (SPEC §4): 5 s timeout, retries with backoff for at least an hour. */
export const backchannelEnv = {
  BACKCHANNEL_TIMEOUT_MS: positiveInt(5000),
  BACKCHANNEL_RETRY_BASE_MS: positiveInt(1000),
  BACKCHANNEL_RETRY_MAX_DELAY_MS: positiveInt(300000),
  BACKCHANNEL_RETRY_WINDOW_SECONDS: z.coerce.number().int().min(1).default(3900),
  BACKCHANNEL_CONCURRENCY: positiveInt(256),
  BACKCHANNEL_CONCURRENCY_PER_CLIENT: positiveInt(8),
  BACKCHANNEL_POLL_INTERVAL_MS: positiveInt(200),
};

/** Log streams (SPEC §5), read by the log-streamer: batching, retries, suspension, leases, metrics. */
export const logStreamsEnv = {
  ...streamTopicPrefixEnv,
  /** Events per delivery, at most 100. */
  LOG_STREAM_BATCH_SIZE: z.coerce.number().int().min(1).max(100).default(100),
  /**
   * Batches a stream takes from its queue per step: one read and one write of the queue for up to
   * this many deliveries (HTTP requests of at most LOG_STREAM_BATCH_SIZE events each, in order).
   */
  LOG_STREAM_BATCHES_PER_STEP: z.coerce.number().int().min(1).max(20).default(5),
  /** The longest a queued event waits for its batch to fill. */
  LOG_STREAM_BATCH_WINDOW_MS: positiveInt(1000),
  /** How often an idle stream looks for new events (and an instance for streams nobody drives). */
  LOG_STREAM_POLL_INTERVAL_MS: positiveInt(250),
  /** First retry delay after a failed delivery; doubles per consecutive failure, with jitter. */
  LOG_STREAM_RETRY_BASE_MS: positiveInt(1000),
  LOG_STREAM_RETRY_MAX_MS: positiveInt(300000),
  /** Consecutive failed deliveries after which a stream is suspended. */
  LOG_STREAM_MAX_FAILURES: positiveInt(20),
  /** How long a log-streamer instance owns a stream without renewing; another takes over after it. */
  LOG_STREAM_LEASE_MS: z.coerce.number().int().min(500).default(30000),
  /**
   * How long the log-streamer remembers that an event was queued for the streams. A message
   * redelivered later (a consumer group rewound past it) is queued again: a duplicate, not a loss.
   * Keep it at least the retention of the log-events topic (Kafka's default: 168 hours).
   */
  LOG_STREAM_FANOUT_RETENTION_HOURS: positiveInt(168),
  /** How often each log-streamer instance forgets the fan-out markers past that retention. */
  LOG_STREAM_FANOUT_SWEEP_INTERVAL_MS: positiveInt(600000),
  /** Prometheus metrics of the log-streamer (GET /metrics); port 0: any free port. */
  LOG_STREAMER_METRICS_PORT: port(9464),
  LOG_STREAMER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** true: the log-streamer creates a missing stream topic; false: a missing topic is a failed delivery. */
  LOG_STREAM_KAFKA_CREATE_TOPICS: bool.default('false'),
};

/** Read by `npm run secrets:reseal` only: the secret the stored values are sealed under now. */
export const previousSecretEnv = {
  SIGNING_KEY_ENCRYPTION_SECRET_OLD: z.string().min(16, 'must be at least 16 characters').optional(),
};
