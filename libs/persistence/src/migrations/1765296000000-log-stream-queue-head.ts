import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The head of one stream's queue, read through the primary key in order, whatever the statistics
 * say. Without statistics (a new database, or a queue that grew faster than autovacuum analyses
 * it) the planner took `stream_id = $1` for a few rows and read all of the stream's queued rows
 * in a bitmap scan to sort them, for every batch: under bench:logs, 55,000 rows and 29 ms for each
 * 500 taken, the log-streamer's costliest statement. The settings hold only inside the function.
 * The events left out (those whose removal is being recorded) are a hashed subplan: `<> ALL` of
 * an array parameter compares each row with every element (21 ms for 500 against 500 there).
 */
export class LogStreamQueueHead1765296000000 implements MigrationInterface {
  name = 'LogStreamQueueHead1765296000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION log_stream_queue_head(p_stream text, p_skip text[], p_limit int)
      RETURNS TABLE (log_id text, enqueued_at timestamptz)
      LANGUAGE sql STABLE
      ROWS 500
      SET enable_bitmapscan = off
      SET enable_seqscan = off
      AS $$
        SELECT q.log_id, q.enqueued_at FROM log_stream_queue q
        WHERE q.stream_id = p_stream AND q.log_id NOT IN (SELECT unnest(p_skip))
        ORDER BY q.log_id
        LIMIT p_limit
      $$`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS log_stream_queue_head(text, text[], int)`);
  }
}
