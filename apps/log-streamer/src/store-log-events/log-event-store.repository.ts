import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { LogEvent, categoryOf } from '@ulo/contracts';

/** The log-streamer's writes to the log store and to the streams' queues. */
@Injectable()
export class LogEventStoreRepository {
  /**
   * Stores the events its producers have not stored (idempotent by log_id); returns how many
   * rows this call added.
   */
  async insertMissing(tx: EntityManager, events: LogEvent[]): Promise<number> {
    const params: unknown[] = [];
    const tuples = events.map((e, j) => {
      params.push(e.log_id, e.date, e.type, e.user_id, e.connection, e.client_id, JSON.stringify(e));
      const b = j * 7;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7})`;
    });
    const rows: unknown[] = await tx.query(
      `INSERT INTO log_events (log_id, date, type, user_id, connection, client_id, data) VALUES ${tuples.join(', ')}
       ON CONFLICT (log_id) DO NOTHING RETURNING log_id`,
      params,
    );
    return rows.length;
  }

  /** Marks the events as fanned out; returns the log_ids that were not marked before. */
  async markFannedOut(tx: EntityManager, logIds: string[]): Promise<Set<string>> {
    const rows: { log_id: string }[] = await tx.query(
      `INSERT INTO log_stream_fanouts (log_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING log_id`,
      [logIds],
    );
    return new Set(rows.map((r) => r.log_id));
  }

  /**
   * Queues each event for every stream whose filters match its category (no filters: all),
   * whatever the stream's status: a paused or suspended stream loses nothing. Returns the rows queued.
   */
  async enqueue(tx: EntityManager, events: LogEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const [{ queued }]: { queued: number }[] = await tx.query(
      `WITH queued AS (
         INSERT INTO log_stream_queue (stream_id, log_id)
         SELECT s.id, f.log_id
         FROM unnest($1::text[], $2::text[]) AS f (log_id, category)
         JOIN log_streams s ON cardinality(s.categories) = 0 OR f.category = ANY (s.categories)
         ORDER BY s.id, f.log_id
         ON CONFLICT DO NOTHING
         RETURNING 1)
       SELECT count(*)::int AS queued FROM queued`,
      [events.map((e) => e.log_id), events.map((e) => categoryOf(e.type))],
    );
    return queued;
  }
}
