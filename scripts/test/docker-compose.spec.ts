import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DCLinter } from 'dclint';
import { parse } from 'yaml';

// docker-compose.yml is not run in CI (no Docker engine there), so this spec is what keeps it
// honest: it must satisfy the Compose Specification schema, `docker compose config` where that
// plugin exists, and the shape the README promises (one service per app, health-gated start-up).

const ROOT = join(__dirname, '..', '..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const APPS = ['gateway', 'session-terminator', 'refresh-token-revoker', 'backchannel-dispatcher', 'log-streamer'];
const APP_ENVIRONMENT = [
  'PUBLIC_BASE_URL',
  'PORT',
  'DATABASE_URL',
  'KAFKA_BROKERS',
  'KAFKA_TOPIC_PREFIX',
  'MANAGEMENT_API_TOKENS',
  'ALLOW_PRIVATE_NETWORK_URLS',
  'CLOCK_SKEW_SECONDS',
  'SIGNING_KEY_ENCRYPTION_SECRET',
  'LOG_STREAM_KAFKA_TOPIC_PREFIX',
  'LOG_STREAM_KAFKA_CREATE_TOPICS',
];
/** Compose's "required" interpolation: `docker compose` stops with the message when the variable is unset or empty. */
const REQUIRED_SECRET = /^\$\{SIGNING_KEY_ENCRYPTION_SECRET:\?[^}]*SIGNING_KEY_ENCRYPTION_SECRET[^}]*\}$/;

interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string; args?: Record<string, string> };
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  healthcheck?: { test?: string[] };
  ports?: string[];
  restart?: string;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
}

type Validator = (file: string) => string[];

/** The Compose Specification JSON schema, as the dclint package ships it; YAML anchors resolved. */
const validateWithSchema: Validator = (file) => {
  const linter = new DCLinter({ rules: {}, quiet: true, debug: false, exclude: [] });
  const [result] = linter.lintFiles([file], false);
  // Only errors: dclint's warnings are style opinions (key order, alphabetical services).
  return result.messages.filter((m) => m.type === 'error').map((m) => `${m.rule}: ${m.message}`);
};

/** Docker's own parser, where the compose plugin is installed (it needs no running engine). */
const dockerComposeConfig = (file: string, env: NodeJS.ProcessEnv) =>
  spawnSync('docker', ['compose', '-f', file, 'config', '-q'], { encoding: 'utf8', env });
const validateWithDockerCompose: Validator = (file) => {
  const run = dockerComposeConfig(file, { ...process.env, SIGNING_KEY_ENCRYPTION_SECRET: 'a compose spec secret value' });
  return run.status === 0 ? [] : [`docker compose config -q exited ${run.status}: ${run.stderr.trim()}`];
};

const dockerComposeInstalled = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0;

const validators: Array<[string, Validator]> = [
  ['the Compose Specification schema', validateWithSchema],
  ...(dockerComposeInstalled ? [['docker compose config -q', validateWithDockerCompose] as [string, Validator]] : []),
];

function loadCompose(): ComposeFile {
  return parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as ComposeFile;
}

describe('docker-compose.yml', () => {
  const compose = loadCompose();
  let scratch: string;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'ulo-compose-'));
  });

  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  describe.each(validators)('checked by %s', (_name, validate) => {
    it('accepts the file', () => {
      expect(validate(COMPOSE_FILE)).toEqual([]);
    });

    it('rejects a file with an unknown depends_on condition (the check can fail)', () => {
      const broken = join(scratch, 'broken.yml');
      const source = readFileSync(COMPOSE_FILE, 'utf8');
      expect(source).toContain('service_completed_successfully');
      writeFileSync(broken, source.replace(/service_completed_successfully/g, 'service_finished'));
      expect(validate(broken)).not.toEqual([]);
    });
  });

  it('runs Kafka 3.9 in KRaft mode and PostgreSQL, each with a healthcheck', () => {
    const { kafka, postgres } = compose.services;
    expect(kafka.image).toMatch(/^apache\/kafka:3\.9\.\d+$/);
    expect(kafka.environment).toMatchObject({
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_NUM_PARTITIONS: '6',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    });
    expect(kafka.healthcheck?.test?.join(' ')).toContain('kafka-broker-api-versions.sh');
    expect(postgres.image).toMatch(/^postgres:1[56]([.-]|$)/);
    expect(postgres.healthcheck?.test?.join(' ')).toContain('pg_isready');
  });

  it('runs the migrations once, from the same image, after PostgreSQL is healthy', () => {
    const { migrate } = compose.services;
    expect(migrate.build).toMatchObject({ context: '.', dockerfile: 'Dockerfile' });
    expect(migrate.command).toEqual(['node', 'scripts/run-node.js', 'libs/persistence/src/migrate.cli']);
    expect(migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
  });

  it.each(APPS)('builds %s from the one Dockerfile with its APP argument', (app) => {
    expect(compose.services[app]?.build).toEqual({ context: '.', dockerfile: 'Dockerfile', args: { APP: app } });
  });

  it.each(APPS)('starts %s only after Kafka and PostgreSQL are healthy and the migrations succeeded', (app) => {
    expect(compose.services[app]?.depends_on).toEqual({
      kafka: { condition: 'service_healthy' },
      postgres: { condition: 'service_healthy' },
      migrate: { condition: 'service_completed_successfully' },
    });
  });

  it.each(APPS)('gives %s every configuration variable of the apps', (app) => {
    const environment = compose.services[app]?.environment ?? {};
    expect(Object.keys(environment)).toEqual(expect.arrayContaining(APP_ENVIRONMENT));
    expect(environment.KAFKA_BROKERS).toBe('kafka:19092');
    expect(environment.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
  });

  it.each([...APPS, 'migrate'])('refuses to start %s without SIGNING_KEY_ENCRYPTION_SECRET: no default secret', (service) => {
    expect(compose.services[service]?.environment?.SIGNING_KEY_ENCRYPTION_SECRET).toMatch(REQUIRED_SECRET);
  });

  it('has no fallback value for the secret anywhere in the file', () => {
    const source = readFileSync(COMPOSE_FILE, 'utf8');
    expect(source).not.toMatch(/SIGNING_KEY_ENCRYPTION_SECRET:?-/);
  });

  it.each(APPS)('restarts %s whenever it exits, unless it was stopped on purpose', (app) => {
    expect(compose.services[app]?.restart).toBe('unless-stopped');
  });

  it('checks the gateway through GET /health and publishes it on loopback', () => {
    const { gateway } = compose.services;
    expect(gateway.healthcheck?.test?.join(' ')).toContain('http://127.0.0.1:3000/health');
    expect(gateway.ports).toEqual(['127.0.0.1:3000:3000']);
  });

  it('publishes ports on 127.0.0.1 only', () => {
    const published = Object.values(compose.services).flatMap((service) => service.ports ?? []);
    expect(published.length).toBeGreaterThan(0);
    for (const port of published) expect(port).toMatch(/^127\.0\.0\.1:/);
  });

  it('has a service for every folder under apps/', () => {
    const folders = readdirSync(join(ROOT, 'apps'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    for (const folder of folders) expect(APPS).toContain(folder);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

  it('takes the app as a build argument and starts its compiled entry through the alias launcher', () => {
    expect(dockerfile).toMatch(/^ARG APP$/m);
    expect(dockerfile).toContain('node scripts/run-node.js \\"apps/$APP/src/main\\"');
  });

  it('builds with npm ci and npm run build, then drops the dev dependencies', () => {
    expect(dockerfile).toMatch(/RUN npm ci\b/);
    expect(dockerfile).toMatch(/npm run build && npm prune --omit=dev/);
  });
});
