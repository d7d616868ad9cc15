import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { LogEvent, categoryOf } from '@ulo/contracts';
import { sqlRows } from '@ulo/persistence';

/** The log-streamer's queues of events for the log streams, and the markers of what it queued. */
@Injectable()
export class LogStreamFanoutRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * In the caller's transaction, one statement: marks `events` fanned out and queues each one seen
   * for the first time for every stream whose filters match its category (no filters: all),
   * whatever the stream's status, so a paused or suspended stream loses nothing. A redelivered
   * event is not queued again. Returns the rows queued.
   */
  async fanOut(tx: EntityManager, events: LogEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const [row] = await sqlRows<{ queued: number }>(
      tx,
      `WITH input (log_id, category) AS (SELECT * FROM unnest($1::text[], $2::text[])),
       -- Held until commit: a stream deleted meanwhile waits, then deletes what this queued.
       streams AS (SELECT id, categories FROM log_streams ORDER BY id FOR KEY SHARE),
       fresh AS (
         INSERT INTO log_stream_fanouts (log_id) SELECT log_id FROM input ORDER BY log_id
         ON CONFLICT DO NOTHING
         RETURNING log_id),
       queued AS (
         INSERT INTO log_stream_queue (stream_id, log_id)
         SELECT s.id, i.log_id
         FROM input i
         JOIN fresh f ON f.log_id = i.log_id
         JOIN streams s ON cardinality(s.categories) = 0 OR i.category = ANY (s.categories)
         ORDER BY s.id, i.log_id
         ON CONFLICT DO NOTHING
         RETURNING 1)
       SELECT count(*)::int AS queued FROM queued`,
      [events.map((e) => e.log_id), events.map((e) => categoryOf(e.type))],
    );
    return row.queued;
  }

  /**
   * Forgets up to `limit` fan-out markers of events minted before `bound` (a log_id: ULIDs sort by
   * time, so the primary key finds them). Returns how many it forgot.
   */
  async forgetBefore(bound: string, limit: number): Promise<number> {
    const [row] = await sqlRows<{ n: number }>(
      this.dataSource.manager,
      `WITH old AS (SELECT log_id FROM log_stream_fanouts WHERE log_id < $1 ORDER BY log_id LIMIT $2),
       gone AS (DELETE FROM log_stream_fanouts f USING old WHERE f.log_id = old.log_id RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [bound, limit],
    );
    return row.n;
  }
}
