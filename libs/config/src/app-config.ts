import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const httpUrl = z
  .string()
  .url()
  // After a failed .url() zod still runs the refinement: it must not throw on a non-URL.
  .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL');

/** SPEC §1: every variable the processes read, with the contract's defaults. */
export const envSchema = z.object({
  PUBLIC_BASE_URL: httpUrl
    .refine((u) => !u.endsWith('/'), 'must not end with a slash')
    .default('http://127.0.0.1:3000'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .default('postgres://postgres@127.0.0.1:5432/universal_logout'),
  /** Connections each process keeps to PostgreSQL at most. */
  DATABASE_POOL_SIZE: positiveInt(10),
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'must be host:port[,host:port...]')
    .default('127.0.0.1:9092'),
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/, 'may hold only letters, digits, ".", "_" and "-"')
    .default('ulo.'),
  MANAGEMENT_API_TOKENS: z.string().default(''),
  ALLOW_PRIVATE_NETWORK_URLS: bool.default('false'),
  CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(600).default(60),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Encrypts secrets at rest (signing keys, log stream credentials); required in production, see README. */
  SIGNING_KEY_ENCRYPTION_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Read by `npm run secrets:reseal` only: the secret the stored values are sealed under now. */
  SIGNING_KEY_ENCRYPTION_SECRET_OLD: z.string().min(16, 'must be at least 16 characters').optional(),
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
  OUTBOUND_TIMEOUT_MS: positiveInt(5000),
  OUTBOX_POLL_INTERVAL_MS: positiveInt(500),
  /** A logout request not complete after this long is announced again (SPEC §8); every step is idempotent. */
  LOGOUT_STUCK_AFTER_SECONDS: positiveInt(60),
  /**
   * Where a consumer app serves GET /health/live and /health/ready; unset: its own default port
   * (README), 0: any free port. The gateway serves both on PORT.
   */
  HEALTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  /** How often consumers commit handled offsets; a crash before a commit means a (harmless) redelivery. */
  KAFKA_COMMIT_INTERVAL_MS: positiveInt(500),
  /** A consumer instance that stops heartbeating loses its partitions to the others after this long. */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(10000),
  KAFKA_PARTITIONS_CONCURRENTLY: positiveInt(6),
  // OIDC Back-Channel Logout delivery (SPEC §4): 5 s timeout, retries with backoff for at least an hour.
  BACKCHANNEL_TIMEOUT_MS: positiveInt(5000),
  BACKCHANNEL_RETRY_BASE_MS: positiveInt(1000),
  BACKCHANNEL_RETRY_MAX_DELAY_MS: positiveInt(300000),
  BACKCHANNEL_RETRY_WINDOW_SECONDS: z.coerce.number().int().min(1).default(3900),
  BACKCHANNEL_CONCURRENCY: positiveInt(64),
  BACKCHANNEL_CONCURRENCY_PER_CLIENT: positiveInt(8),
  BACKCHANNEL_POLL_INTERVAL_MS: positiveInt(200),
  // Log streams (SPEC §5), read by the log-streamer: batching, retries, suspension, leases, metrics.
  /** Events per delivery, at most 100. */
  LOG_STREAM_BATCH_SIZE: z.coerce.number().int().min(1).max(100).default(100),
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
  LOG_STREAMER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  LOG_STREAMER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * Every kafka log stream's topic starts with it (SPEC §5 sink.topic), so that a stream cannot
   * publish into this deployment's own topics or another deployment's.
   */
  LOG_STREAM_KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'must be 1 to 200 letters, digits, ".", "_" or "-"')
    .refine((p) => !p.startsWith('__'), 'must not start with "__" (Kafka internal topics)')
    .default('logs.'),
  /** true: the log-streamer creates a missing stream topic; false: a missing topic is a failed delivery. */
  LOG_STREAM_KAFKA_CREATE_TOPICS: bool.default('false'),
});

/**
 * Messages that never quote the rejected value: a configuration error goes to stderr and to log
 * collectors, and the value may be a secret (SIGNING_KEY_ENCRYPTION_SECRET, a password in
 * DATABASE_URL). zod's own enum message would quote it.
 */
const withoutValues: z.ZodErrorMap = (issue, ctx) => {
  if (issue.code === z.ZodIssueCode.invalid_enum_value) return { message: `must be one of: ${issue.options.join(', ')}` };
  if (issue.code === z.ZodIssueCode.invalid_type) return { message: `must be a ${issue.expected}` };
  return { message: ctx.defaultError };
};


export interface AppConfig {
  publicBaseUrl: string;
  http: { port: number };
  database: { url: string; poolSize: number };
  kafka: {
    brokers: string[];
    topicPrefix: string;
    commitIntervalMs: number;
    sessionTimeoutMs: number;
    partitionsConcurrently: number;
  };
  management: { tokens: string[] };
  security: {
    allowPrivateNetworkUrls: boolean;
    clockSkewSeconds: number;
    signingKeyEncryptionSecret?: string;
    /** SIGNING_KEY_ENCRYPTION_SECRET_OLD: read by the re-seal command only. */
    previousSigningKeyEncryptionSecret?: string;
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
  backchannel: {
    timeoutMs: number;
    retryBaseMs: number;
    retryMaxDelayMs: number;
    retryWindowSeconds: number;
    concurrency: number;
    concurrencyPerClient: number;
    pollIntervalMs: number;
  };
  outbox: { pollIntervalMs: number };
  logoutStuckAfterSeconds: number;
  /** Liveness and readiness of a consumer app; port undefined: the app's own default. */
  health: { host: string; port?: number };
  logLevel: string;
  /** Log streams (SPEC §5): the log-streamer's delivery settings and metrics endpoint. */
  logStreams: {
    batchSize: number;
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
    /** LOG_STREAM_KAFKA_TOPIC_PREFIX */
    kafkaTopicPrefix: string;
    /** LOG_STREAM_KAFKA_CREATE_TOPICS */
    kafkaCreateTopics: boolean;
  };
}

export class InvalidConfigException extends Error {}

/**
 * Parses the environment once; the first invalid variable is reported by name, never with its
 * value (SPEC §1).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present, { errorMap: withoutValues });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidConfigException(`invalid configuration: ${String(issue.path[0])} ${issue.message}`);
  }
  const e = parsed.data;
  return {
    publicBaseUrl: e.PUBLIC_BASE_URL,
    http: { port: e.PORT },
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE },
    kafka: {
      brokers: e.KAFKA_BROKERS.split(','),
      topicPrefix: e.KAFKA_TOPIC_PREFIX,
      commitIntervalMs: e.KAFKA_COMMIT_INTERVAL_MS,
      sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
      partitionsConcurrently: e.KAFKA_PARTITIONS_CONCURRENTLY,
    },
    management: {
      tokens: e.MANAGEMENT_API_TOKENS.split(',')
        .map((t) => t.trim())
        .filter((t) => t.length > 0),
    },
    security: {
      allowPrivateNetworkUrls: e.ALLOW_PRIVATE_NETWORK_URLS,
      clockSkewSeconds: e.CLOCK_SKEW_SECONDS,
      signingKeyEncryptionSecret: e.SIGNING_KEY_ENCRYPTION_SECRET,
      previousSigningKeyEncryptionSecret: e.SIGNING_KEY_ENCRYPTION_SECRET_OLD,
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
    backchannel: {
      timeoutMs: e.BACKCHANNEL_TIMEOUT_MS,
      retryBaseMs: e.BACKCHANNEL_RETRY_BASE_MS,
      retryMaxDelayMs: e.BACKCHANNEL_RETRY_MAX_DELAY_MS,
      retryWindowSeconds: e.BACKCHANNEL_RETRY_WINDOW_SECONDS,
      concurrency: e.BACKCHANNEL_CONCURRENCY,
      concurrencyPerClient: e.BACKCHANNEL_CONCURRENCY_PER_CLIENT,
      pollIntervalMs: e.BACKCHANNEL_POLL_INTERVAL_MS,
    },
    outbox: { pollIntervalMs: e.OUTBOX_POLL_INTERVAL_MS },
    logoutStuckAfterSeconds: e.LOGOUT_STUCK_AFTER_SECONDS,
    health: { host: e.HEALTH_HOST, port: e.HEALTH_PORT },
    logLevel: e.LOG_LEVEL,
    logStreams: {
      batchSize: e.LOG_STREAM_BATCH_SIZE,
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

/**
 * For main.ts: load or exit with one line naming the variable (SPEC §1).
 */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): AppConfig {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof InvalidConfigException) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
}

/** For the apps that sign logout tokens: the key-encryption secret is required (SPEC §4, README). */
export function signingSecretOf(config: AppConfig): string {
  const secret = config.security.signingKeyEncryptionSecret;
  if (!secret) {
    throw new InvalidConfigException('invalid configuration: SIGNING_KEY_ENCRYPTION_SECRET is required (at least 16 characters)');
  }
  return secret;
}
