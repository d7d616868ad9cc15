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

  async record(manager: EntityManager, inputs: LogEventInput[]): Promise<LogEvent[]> {
    const events = inputs.map((i) => buildLogEvent(i));
    const topic = this.outbox.logEventsTopic();
    for (let i = 0; i < events.length; i += 500) {
      const chunk = events.slice(i, i + 500);
      const params: unknown[] = [topic];
      const tuples = chunk.map((e, j) => {
        params.push(e.log_id, e.date, e.type, e.user_id, e.connection, e.client_id, JSON.stringify(e));
        const b = j * 7 + 1;
        return `($${b + 1}, $${b + 2}::timestamptz, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7})`;
      });
      // One statement per chunk: stored for the query API and queued for <prefix>log-events together.
      await manager.query(
        `WITH input (log_id, date, type, user_id, connection, client_id, json) AS (VALUES ${tuples.join(', ')}),
         stored AS (
           INSERT INTO log_events (log_id, date, type, user_id, connection, client_id, data)
           SELECT log_id, date, type, user_id, connection, client_id, json::jsonb FROM input
           ON CONFLICT (log_id) DO NOTHING RETURNING log_id
         )
         INSERT INTO outbox (topic, message_key, value)
         SELECT $1, input.log_id, input.json FROM input JOIN stored USING (log_id)`,
        params,
      );
    }
    return events;
  }
}
