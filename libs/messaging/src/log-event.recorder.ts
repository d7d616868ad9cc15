import { EntityManager } from 'typeorm';
import { monotonicFactory } from 'ulid';
import { LogEvent, LogEventInput } from '@ulo/contracts';
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

function cap(text: string | null | undefined, max: number): string | null {
  if (text === null || text === undefined) return null;
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function cappedDetails(details: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!details) return {};
  const bytes = Buffer.byteLength(JSON.stringify(details));
  return bytes <= MAX_LOG_DETAILS_BYTES ? details : { truncated: true, original_bytes: bytes };
}

export function buildLogEvent(input: LogEventInput, now = new Date()): LogEvent {
  return {
    log_id: newLogId(),
    date: now.toISOString(),
    type: input.type,
    description: cap(input.description, LOG_TEXT_LIMITS.description) ?? '',
    connection: cap(input.connection, LOG_TEXT_LIMITS.connection),
    connection_id: input.connection_id ?? null,
    client_id: input.client_id ?? null,
    client_name: input.client_name ?? null,
    user_id: input.user_id ?? null,
    identity_user_id: input.identity_user_id ?? null,
    ip: cap(input.ip, LOG_TEXT_LIMITS.ip),
    user_agent: cap(input.user_agent, LOG_TEXT_LIMITS.user_agent),
    hostname: cap(input.hostname, LOG_TEXT_LIMITS.hostname),
    details: cappedDetails(input.details),
  };
}

/**
 * Writes log events in the caller's transaction: stored for the query API and queued in the
 * outbox for `<prefix>log-events`, so a log line exists exactly when the fact it reports committed.
 */
export class LogEventRecorder {
  constructor(private readonly outbox: OutboxWriter) {}

  /** One statement however many events: the columns go as arrays, in order. */
  async record(manager: EntityManager, inputs: LogEventInput[]): Promise<void> {
    if (inputs.length === 0) return;
    const events = inputs.map((i) => buildLogEvent(i));
    await manager.query(
      `WITH input AS (
         SELECT * FROM unnest($2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
           WITH ORDINALITY AS i (log_id, date, type, user_id, connection, client_id, json, n)),
       stored AS (
         INSERT INTO log_events (log_id, date, type, user_id, connection, client_id, data)
         SELECT log_id, date, type, user_id, connection, client_id, json::jsonb FROM input
         ON CONFLICT (log_id) DO NOTHING RETURNING log_id
       )
       INSERT INTO outbox (topic, message_key, value)
       SELECT $1, input.log_id, input.json FROM input JOIN stored USING (log_id) ORDER BY input.n`,
      [
        this.outbox.logEventsTopic(),
        events.map((e) => e.log_id),
        events.map((e) => e.date),
        events.map((e) => e.type),
        events.map((e) => e.user_id),
        events.map((e) => e.connection),
        events.map((e) => e.client_id),
        events.map((e) => JSON.stringify(e)),
      ],
    );
  }
}
