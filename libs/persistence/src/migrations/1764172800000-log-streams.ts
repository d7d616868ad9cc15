import { MigrationInterface, QueryRunner } from 'typeorm';

export class LogStreams1764172800000 implements MigrationInterface {
  name = 'LogStreams1764172800000';

  public async up(q: QueryRunner): Promise<void> {
    // SPEC §5 log streams, with the delivery state of each: health, retry schedule and lease.
    await q.query(`
      CREATE TABLE log_streams (
        id text PRIMARY KEY,
        name text NOT NULL,
        type text NOT NULL CHECK (type IN ('http', 'kafka')),
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'suspended')),
        sink jsonb NOT NULL,
        filters jsonb NOT NULL DEFAULT '[]'::jsonb,
        categories text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_delivered_log_id text,
        last_success_at timestamptz,
        delivered_count bigint NOT NULL DEFAULT 0,
        consecutive_failures integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_errors jsonb NOT NULL DEFAULT '[]'::jsonb,
        suspended_at timestamptz,
        lease_owner text,
        lease_until timestamptz
      )`);
    // Each stream's own queue: the events it has still to deliver, in log_id order. Filled by the
    // log-streamer in the transaction that stores the event; a row leaves once delivered.
    await q.query(`
      CREATE TABLE log_stream_queue (
        stream_id text NOT NULL REFERENCES log_streams (id) ON DELETE CASCADE,
        log_id text NOT NULL,
        enqueued_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (stream_id, log_id)
      )`);
    // The log_ids already fanned out to the queues: a redelivered event is not queued twice.
    await q.query(`
      CREATE TABLE log_stream_fanouts (
        log_id text PRIMARY KEY,
        fanned_out_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS log_stream_fanouts`);
    await q.query(`DROP TABLE IF EXISTS log_stream_queue`);
    await q.query(`DROP TABLE IF EXISTS log_streams`);
  }
}
