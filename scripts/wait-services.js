#!/usr/bin/env node
// Readiness checks for scripts/services.sh, with the project's own drivers (pg, kafkajs) so that
// no psql or Kafka CLI is needed on the machine. Plain CommonJS: it runs before anything is built.
//
//   node scripts/wait-services.js url-parts <database-url>        prints "host port user database"
//   node scripts/wait-services.js postgres <database-url> [--timeout S]
//   node scripts/wait-services.js ensure-database <database-url>
//   node scripts/wait-services.js kafka <brokers> [--timeout S] [--pid PID,...] [--log FILE] [--nodes N]
//   node scripts/wait-services.js kafka-node <host:port>
//
// --timeout 0 (the default) tries once. --pid: fail at once when one of these processes exits.
// kafka: the metadata lists a broker; with --nodes N, every broker in the list accepts clients
// itself and the metadata lists at least N brokers (a cluster whose every node is up and registered).
// kafka-node: that one broker accepts clients (a KRaft broker does once it is registered and unfenced).
// Exit status 0 when the service answers; otherwise 1 with one line on stderr saying what did not answer.
'use strict';

const { Client } = require('pg');
const { Kafka, logLevel } = require('kafkajs');

const RETRY_INTERVAL_MS = 250;

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function parseOptions(args) {
  const options = { timeoutSeconds: 0, pids: [], log: undefined, nodes: undefined };
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined) fail(`missing value after ${flag}`);
    if (flag === '--timeout') options.timeoutSeconds = Number(value);
    else if (flag === '--pid') options.pids = value.split(',').map(Number);
    else if (flag === '--nodes') options.nodes = Number(value);
    else if (flag === '--log') options.log = value;
    else fail(`unknown option ${flag}`);
  }
  if (!Number.isFinite(options.timeoutSeconds) || options.timeoutSeconds < 0) {
    fail('--timeout takes a number of seconds');
  }
  if (!options.pids.every((pid) => Number.isInteger(pid) && pid > 0)) fail('--pid takes process ids, comma-separated');
  if (options.nodes !== undefined && !(Number.isInteger(options.nodes) && options.nodes > 0)) {
    fail('--nodes takes a number of brokers');
  }
  return options;
}

function parseDatabaseUrl(databaseUrl) {
  let url;
  try {
    url = new URL(databaseUrl);
  } catch {
    fail(`not a URL: ${databaseUrl}`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    fail(`DATABASE_URL must start with postgres:// (got ${url.protocol}//)`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) fail(`DATABASE_URL names no database: ${databaseUrl}`);
  return {
    url,
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'postgres'),
    database,
  };
}

// The target database may not exist yet, so server checks go to the maintenance database.
// (pg lets connectionString override explicit fields, hence rewriting the URL itself.)
function maintenanceUrl(databaseUrl) {
  const { url } = parseDatabaseUrl(databaseUrl);
  const copy = new URL(url.href);
  copy.pathname = '/postgres';
  return copy.href;
}

async function withPostgres(connectionString, work) {
  const client = new Client({ connectionString, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined); // a dropped idle connection must not crash the check
  try {
    await client.connect();
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function pollUntil(deadline, attempt, describeFailure) {
  let lastError;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      lastError = error;
    }
    if (Date.now() + RETRY_INTERVAL_MS > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, RETRY_INTERVAL_MS));
  }
  fail(describeFailure(lastError));
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForPostgres(databaseUrl, options) {
  const { host, port } = parseDatabaseUrl(databaseUrl);
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  await pollUntil(
    deadline,
    () => withPostgres(maintenanceUrl(databaseUrl), (client) => client.query('select 1')),
    (error) =>
      `PostgreSQL at ${host}:${port} did not answer "select 1"` +
      (options.timeoutSeconds > 0 ? ` within ${options.timeoutSeconds} s` : '') +
      `: ${error && error.message}`,
  );
}

async function ensureDatabase(databaseUrl) {
  const { database } = parseDatabaseUrl(databaseUrl);
  const created = await withPostgres(maintenanceUrl(databaseUrl), async (client) => {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount > 0) return false;
    // CREATE DATABASE takes no bind parameters: quote the identifier instead.
    await client.query(`create database "${database.replace(/"/g, '""')}"`);
    return true;
  }).catch((error) => {
    // Two concurrent runs may race to create it; the loser sees duplicate_database (42P04).
    if (error && error.code === '42P04') return false;
    fail(`could not create database ${database}: ${error && error.message}`);
  });
  process.stdout.write(created ? `created database ${database}\n` : '');
}

async function describeCluster(brokers) {
  const kafka = new Kafka({
    clientId: 'ulo-services-check',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 3000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error('metadata lists no broker');
    return cluster;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

// The connection handshake (ApiVersions) with this broker alone, no metadata request: kafkajs sends
// those to any broker the metadata lists, so a dead node still listed would fail the check of a live one.
async function brokerAcceptsClients(broker) {
  const kafka = new Kafka({
    clientId: 'ulo-services-check',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 3000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function waitForKafka(brokerList, options) {
  const brokers = brokerList.split(',').map((broker) => broker.trim()).filter(Boolean);
  if (brokers.length === 0) fail('no Kafka broker given');
  const logHint = options.log ? `; see ${options.log}` : '';
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  await pollUntil(
    deadline,
    async () => {
      // Fail fast when a broker we are waiting for has already exited.
      const dead = options.pids.find((pid) => !isAlive(pid));
      if (dead !== undefined) fail(`the Kafka process (pid ${dead}) exited before answering${logHint}`);
      if (options.nodes === undefined) return describeCluster(brokers);
      // Each node on its own: a node killed a moment ago is still listed by the others until it is
      // fenced, while a restarted one accepts clients only once it is registered and unfenced.
      for (const broker of brokers) {
        await brokerAcceptsClients(broker).catch((error) => {
          throw new Error(`${broker}: ${error && error.message}`);
        });
      }
      const cluster = await describeCluster(brokers);
      if (cluster.brokers.length < options.nodes) {
        throw new Error(`the metadata lists ${cluster.brokers.length} of ${options.nodes} brokers`);
      }
    },
    (error) =>
      `Kafka at ${brokers.join(',')} did not answer metadata` +
      (options.timeoutSeconds > 0 ? ` within ${options.timeoutSeconds} s` : '') +
      `: ${error && error.message}${logHint}`,
  );
}

async function main() {
  const [command, target, ...rest] = process.argv.slice(2);
  if (!command || !target) fail('usage: wait-services.js url-parts|postgres|ensure-database|kafka|kafka-node <target> [options]');
  const options = parseOptions(rest);
  switch (command) {
    case 'url-parts': {
      const { host, port, user, database } = parseDatabaseUrl(target);
      process.stdout.write(`${host} ${port} ${user} ${database}\n`);
      return;
    }
    case 'postgres':
      return waitForPostgres(target, options);
    case 'ensure-database':
      return ensureDatabase(target);
    case 'kafka':
      return waitForKafka(target, options);
    case 'kafka-node':
      return brokerAcceptsClients(target).catch((error) => fail(`Kafka at ${target} does not answer: ${error && error.message}`));
    default:
      fail(`unknown command ${command}`);
  }
}

main().then(
  () => process.exit(0),
  (error) => fail(error && error.stack ? error.stack : String(error)),
);
