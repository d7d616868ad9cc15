import { EntityManager } from 'typeorm';
import { monotonicFactory } from 'ulid';
import { LogEvent, LogEventInput } from '@ulo/contracts';
import { OutboxWriter } from './outbox.writer';

const nextUlid = monotonicFactory();

/** A log_id that sorts by time: a ULID (monotonic within a process). */
export function newLogId(): string {
  return nextUlid();
}

export function buildLogEvent(input: LogEventInput, now = new Date()): LogEvent {
  return {
    log_id: newLogId(),
    date: now.toISOString(),
    type: input.type,
    description: input.description,
    connection: input.connection ?? null,
    connection_id: input.connection_id ?? null,
    client_id: input.client_id ?? null,
    client_name: input.client_name ?? null,
    user_id: input.user_id ?? null,
    identity_user_id: input.identity_user_id ?? null,
    ip: input.ip ?? null,
    user_agent: input.user_agent ?? null,
    hostname: input.hostname ?? null,
    details: input.details ?? {},
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
