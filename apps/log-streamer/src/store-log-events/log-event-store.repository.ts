import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LogEvent, categoryOf } from '@ulo/contracts';

export interface StoreOutcome {
  /** Rows this call added to log_events (the others had been stored by their producer). */
  stored: number;
  /** Rows added to the streams' queues. */
  queued: number;
}

/** The log-streamer's writes to the log store and to the streams' queues. */
@Injectable()
export class LogEventStoreRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * In one statement, so atomically and in one round trip: stores the events its producers have
   * not stored (idempotent by log_id), marks them fanned out, and queues each event seen for the
   * first time for every stream whose filters match its category (no filters: all), whatever the
   * stream's status: a paused or suspended stream loses nothing.
   */
  async storeAndQueue(events: LogEvent[]): Promise<StoreOutcome> {
    const [row]: { stored: number; queued: number }[] = await this.dataSource.query(
      `WITH input (log_id, date, type, user_id, connection, client_id, data, category) AS (
         SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::text[])),
       stored AS (
         INSERT INTO log_events (log_id, date, type, user_id, connection, client_id, data)
         SELECT log_id, date, type, user_id, connection, client_id, data FROM input ORDER BY log_id
         ON CONFLICT (log_id) DO NOTHING
         RETURNING log_id),
       fresh AS (
         INSERT INTO log_stream_fanouts (log_id) SELECT log_id FROM input ORDER BY log_id
         ON CONFLICT DO NOTHING
         RETURNING log_id),
       queued AS (
         INSERT INTO log_stream_queue (stream_id, log_id)
         SELECT s.id, i.log_id
         FROM input i
         JOIN fresh f ON f.log_id = i.log_id
         JOIN log_streams s ON cardinality(s.categories) = 0 OR i.category = ANY (s.categories)
         ORDER BY s.id, i.log_id
         ON CONFLICT DO NOTHING
         RETURNING 1)
       SELECT (SELECT count(*) FROM stored)::int AS stored, (SELECT count(*) FROM queued)::int AS queued`,
      [
        events.map((e) => e.log_id),
        events.map((e) => e.date),
        events.map((e) => e.type),
        events.map((e) => e.user_id),
        events.map((e) => e.connection),
        events.map((e) => e.client_id),
        events.map((e) => JSON.stringify(e)),
        events.map((e) => categoryOf(e.type)),
      ],
    );
    return row;
  }

  /**
   * Forgets up to `limit` fan-out markers of events minted before `bound` (a log_id: ULIDs sort by
   * time, so the primary key finds them). Returns how many it forgot.
   */
  async forgetFanoutsBefore(bound: string, limit: number): Promise<number> {
    const [row]: { n: number }[] = await this.dataSource.query(
      `WITH old AS (SELECT log_id FROM log_stream_fanouts WHERE log_id < $1 ORDER BY log_id LIMIT $2),
       gone AS (DELETE FROM log_stream_fanouts f USING old WHERE f.log_id = old.log_id RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [bound, limit],
    );
    return row.n;
  }
}
