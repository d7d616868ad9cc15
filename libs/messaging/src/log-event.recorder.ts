import type { DataSource, EntityManager } from 'typeorm';
import { monotonicFactory } from 'ulid';
import { LogEvent, LogEventInput } from '@ulo/contracts';
import { LogEventRepository, type OutboxRow } from '@ulo/persistence';
import { OutboxWriter } from './outbox.writer';

const nextUlid = monotonicFactory();

/** A log_id that sorts by time: a ULID (monotonic within a process). */
export function newLogId(): string {
  return nextUlid();
}

/**
 * Longest kept text of the fields a caller can choose (the connection name in the URL, the
 * User-Agent, the Host header) and of descriptions, which may quote them: a log event stays small
 * enough to store and publish, whatever an outsider sends (SPEC §2 "Hostile traffic", §8).
 */
export const LOG_TEXT_LIMITS = { connection: 128, user_agent: 256, hostname: 256, ip: 64, description: 1024 } as const;
/** Details larger than this, serialised, are replaced by a note of their size. */
export const MAX_LOG_DETAILS_BYTES = 32 * 1024;

/** What PostgreSQL refuses in text and jsonb: NUL, and a surrogate that is not half of a pair. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** The same, for a yes/no test (a global expression's `test` keeps state between calls). */
const HAS_UNSTORABLE = new RegExp(UNSTORABLE.source);
/** How JSON.stringify writes NUL and a lone surrogate (or text that looks like it: then the slow path). */
const ESCAPED_UNSTORABLE = /\\u(?:0000|d[89a-f])/i;

/**
 * Caller text as a log event may hold it: at most `max` characters (cut at a whole character, so
 * that an emoji is never split in two), and what PostgreSQL refuses replaced by U+FFFD.
 */
export function capText(text: string | null | undefined, max: number): string | null {
  if (text === null || text === undefined) return null;
  let cut = text;
  if (text.length > max) {
    let end = max - 1;
    // Not between the two halves of a surrogate pair.
    if (/[\ud800-\udbff]/.test(text[end - 1] ?? '')) end--;
    cut = `${text.slice(0, end)}…`;
  }
  return cut.replace(UNSTORABLE, '\ufffd');
}

/**
 * Details as jsonb can hold them: every key and text value without what PostgreSQL refuses (a
 * caller's body may carry a lone surrogate as a JSON escape), and no larger than the limit.
 */
function cappedDetails(details: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!details) return {};
  // Most details hold nothing PostgreSQL refuses: JSON.stringify writes NUL and lone surrogates as
  // the escapes ESCAPED_UNSTORABLE finds (a pair is written as itself). The replacer, which costs
  // several times a plain serialisation, runs only when they are there.
  const plain = JSON.stringify(details);
  const json = !ESCAPED_UNSTORABLE.test(plain)
    ? plain
    : JSON.stringify(details, function (this: unknown, _key: string, value: unknown) {
        if (typeof value === 'string') return value.replace(UNSTORABLE, '\ufffd');
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
        const keys = Object.keys(value);
        if (!keys.some((k) => HAS_UNSTORABLE.test(k))) return value;
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(UNSTORABLE, '\ufffd'), v as unknown]));
      });
  const bytes = Buffer.byteLength(json);
  return bytes <= MAX_LOG_DETAILS_BYTES ? (JSON.parse(json) as Record<string, unknown>) : { truncated: true, original_bytes: bytes };
}

export function buildLogEvent(input: LogEventInput, now = new Date()): LogEvent {
  return {
    log_id: newLogId(),
    date: now.toISOString(),
    type: input.type,
    description: capText(input.description, LOG_TEXT_LIMITS.description) ?? '',
    connection: capText(input.connection, LOG_TEXT_LIMITS.connection),
    connection_id: input.connection_id ?? null,
    client_id: input.client_id ?? null,
    client_name: input.client_name ?? null,
    user_id: input.user_id ?? null,
    identity_user_id: input.identity_user_id ?? null,
    ip: capText(input.ip, LOG_TEXT_LIMITS.ip),
    user_agent: capText(input.user_agent, LOG_TEXT_LIMITS.user_agent),
    hostname: capText(input.hostname, LOG_TEXT_LIMITS.hostname),
    details: cappedDetails(input.details),
  };
}

/**
 * The one log writer (SPEC §5): log events are written in the caller's transaction, stored for the
 * query API and queued in the outbox for `<prefix>log-events`, so a log line exists exactly when
 * the fact it reports committed.
 */
export class LogEventRecorder {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly logEvents: LogEventRepository,
  ) {}

  /** Log events that report nothing written in a transaction of their own (a rejection, an audit line). */
  async recordAlone(inputs: LogEventInput[]): Promise<void> {
    if (inputs.length > 0) await this.dataSource.transaction((tx) => this.record(tx, inputs));
  }

  /**
   * `alongside`: other events of the same transaction, written to the outbox in the same statement
   * as the log events' (one insert for everything the transaction announces).
   */
  async record(tx: EntityManager, inputs: LogEventInput[], alongside: OutboxRow[] = []): Promise<void> {
    const events = inputs.map((i) => buildLogEvent(i));
    // A log_id is new (a ULID minted here), so every event is stored; only those stored are announced.
    const stored = new Set(events.length > 0 ? await this.logEvents.insert(tx, events) : []);
    const topic = this.outbox.logEventsTopic();
    await this.outbox.write(tx, [
      ...alongside,
      ...events.filter((e) => stored.has(e.log_id)).map((e) => ({ topic, key: e.log_id, value: JSON.stringify(e) })),
    ]);
  }
}
