/**
 * The one classification of failures (SPEC §8): is it worth trying again later?
 *
 * Transient: the infrastructure is unreachable, restarting, overloaded or told us to retry; the
 * work is not at fault and will succeed once it is back. Every retry loop asks this function.
 */

/** PostgreSQL SQLSTATEs (Appendix A of its manual) that a retry can outlive. */
const TRANSIENT_SQLSTATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: the database system is starting up
  '57014', // query_canceled: statement timeout
  '25006', // read_only_sql_transaction: a replica after a failover
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
]);
/** Whole SQLSTATE classes: 08 connection exception, 53 insufficient resources (53300 too many connections). */
const TRANSIENT_SQLSTATE_CLASSES = ['08', '53'];

/** Socket-level error codes of Node.js. */
const TRANSIENT_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** Messages of the pg driver and TypeORM that carry no code. */
const TRANSIENT_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Driver not Connected|DataSource is not initialized|Connection is not established|connect ECONNREFUSED|read ECONNRESET/i;

interface ErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  retriable?: unknown;
  cause?: unknown;
  driverError?: unknown;
  originalError?: unknown;
}

function isTransientOne(err: ErrorLike): boolean {
  const code = typeof err.code === 'string' ? err.code : undefined;
  if (code !== undefined) {
    if (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_SOCKET_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && TRANSIENT_SQLSTATE_CLASSES.includes(code.slice(0, 2))) return true;
  }
  // kafkajs marks what its protocol says can be retried; running out of retries is an outage too.
  const name = typeof err.name === 'string' ? err.name : '';
  if (name.startsWith('KafkaJS') && (err.retriable === true || name === 'KafkaJSNumberOfRetriesExceeded')) return true;
  if (name === 'KafkaJSConnectionError' || name === 'KafkaJSConnectionClosedError' || name === 'KafkaJSRequestTimeoutError') {
    return true;
  }
  return typeof err.message === 'string' && TRANSIENT_MESSAGES.test(err.message);
}

/** True when `err`, or anything it wraps (cause, driverError, originalError), is transient. */
export function isTransient(err: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = err;
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    current = queue.shift();
    if (current === null || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    const e = current as ErrorLike;
    if (isTransientOne(e)) return true;
    queue.push(e.cause, e.driverError, e.originalError);
  }
  return false;
}

/**
 * SQLSTATE classes that mean the data itself is unacceptable (22 data exception, 23 integrity
 * constraint violation): trying the same message again cannot help.
 */
export function isDataRejection(err: unknown): boolean {
  const e = err as ErrorLike | null;
  const code = typeof e?.code === 'string' ? e.code : typeof (e?.driverError as ErrorLike)?.code === 'string' ? (e!.driverError as ErrorLike).code : undefined;
  return typeof code === 'string' && /^(22|23)[0-9A-Z]{3}$/.test(code);
}
