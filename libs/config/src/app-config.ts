import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL');

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
  /** Encrypts the back-channel signing keys at rest; required in production, see README. */
  SIGNING_KEY_ENCRYPTION_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  GTR_RATE_LIMIT_PER_SECOND: positiveInt(200),
  GTR_RATE_LIMIT_BURST: positiveInt(400),
  JWKS_COOLDOWN_SECONDS: z.coerce.number().int().min(0).default(30),
  JWKS_CACHE_MAX_AGE_SECONDS: positiveInt(600),
  OUTBOUND_TIMEOUT_MS: positiveInt(5000),
  OUTBOX_POLL_INTERVAL_MS: positiveInt(500),
  /** How often consumers commit handled offsets; a crash before a commit means a (harmless) redelivery. */
  KAFKA_COMMIT_INTERVAL_MS: positiveInt(500),
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(30000),
  KAFKA_PARTITIONS_CONCURRENTLY: positiveInt(6),
});

export type Env = z.input<typeof envSchema>;

export interface AppConfig {
  publicBaseUrl: string;
  http: { port: number };
  database: { url: string };
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
    jwksCooldownSeconds: number;
    jwksCacheMaxAgeSeconds: number;
    outboundTimeoutMs: number;
  };
  rateLimit: { perSecond: number; burst: number };
  outbox: { pollIntervalMs: number };
  logLevel: string;
}

export class InvalidConfigException extends Error {}

/** Parses the environment once; the first invalid variable is reported by name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue.path[0]);
    throw new InvalidConfigException(`invalid configuration: ${key} ${issue.message} (got ${JSON.stringify(env[key])})`);
  }
  const e = parsed.data;
  return {
    publicBaseUrl: e.PUBLIC_BASE_URL,
    http: { port: e.PORT },
    database: { url: e.DATABASE_URL },
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
      jwksCooldownSeconds: e.JWKS_COOLDOWN_SECONDS,
      jwksCacheMaxAgeSeconds: e.JWKS_CACHE_MAX_AGE_SECONDS,
      outboundTimeoutMs: e.OUTBOUND_TIMEOUT_MS,
    },
    rateLimit: { perSecond: e.GTR_RATE_LIMIT_PER_SECOND, burst: e.GTR_RATE_LIMIT_BURST },
    outbox: { pollIntervalMs: e.OUTBOX_POLL_INTERVAL_MS },
    logLevel: e.LOG_LEVEL,
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
