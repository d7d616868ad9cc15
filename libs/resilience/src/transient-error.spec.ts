import { isDataRejection, isTransient } from './transient-error';

function pgError(code: string, message = 'pg error'): Error {
  return Object.assign(new Error(message), { code });
}

function kafkaError(name: string, retriable: boolean, cause?: unknown): Error {
  return Object.assign(new Error(name), { name, retriable, cause });
}

describe('isTransient: which failures are retried without limit (SPEC §8)', () => {
  it.each([
    ['57P01 admin shutdown', pgError('57P01')],
    ['57P03 the database system is starting up', pgError('57P03')],
    ['53300 too many connections', pgError('53300')],
    ['25006 read-only transaction after a failover', pgError('25006')],
    ['57014 statement timeout', pgError('57014')],
    ['40001 serialization failure', pgError('40001')],
    ['40P01 deadlock', pgError('40P01')],
    ['08006 connection failure', pgError('08006')],
    ['ECONNREFUSED', pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['ECONNRESET', pgError('ECONNRESET')],
    ['pg: Connection terminated unexpectedly', new Error('Connection terminated unexpectedly')],
    ['pg pool: timeout exceeded when trying to connect', new Error('timeout exceeded when trying to connect')],
    ['TypeORM before the first connection', new Error('Driver not Connected')],
    ['TypeORM QueryFailedError wrapping 57P01', Object.assign(new Error('terminating connection'), { driverError: pgError('57P01') })],
    ['kafkajs retriable protocol error', kafkaError('KafkaJSProtocolError', true)],
    ['kafkajs connection error', kafkaError('KafkaJSConnectionError', true)],
    ['kafkajs out of retries', kafkaError('KafkaJSNumberOfRetriesExceeded', false)],
    ['kafkajs non-retriable wrapping a connection error', kafkaError('KafkaJSNonRetriableError', false, kafkaError('KafkaJSConnectionError', true))],
  ])('%s is transient', (_name, err) => {
    expect(isTransient(err)).toBe(true);
  });

  it.each([
    ['23505 unique violation', pgError('23505')],
    ['22P02 invalid text representation', pgError('22P02')],
    ['42P01 undefined table', pgError('42P01')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['kafkajs non-retriable error', kafkaError('KafkaJSNonRetriableError', false)],
    ['a string', 'boom'],
    ['null', null],
  ])('%s is not transient', (_name, err) => {
    expect(isTransient(err)).toBe(false);
  });

  it('survives an error that wraps itself', () => {
    const err: { message: string; cause?: unknown } = { message: 'loop' };
    err.cause = err;
    expect(isTransient(err)).toBe(false);
  });
});

describe('isDataRejection: the message itself is unacceptable', () => {
  it.each([
    ['23505', true],
    ['23503', true],
    ['22P02', true],
    ['57P01', false],
    ['40001', false],
  ])('%s → %s', (code, expected) => {
    expect(isDataRejection(pgError(code))).toBe(expected);
    expect(isDataRejection(Object.assign(new Error('wrapped'), { driverError: pgError(code) }))).toBe(expected);
  });
});
