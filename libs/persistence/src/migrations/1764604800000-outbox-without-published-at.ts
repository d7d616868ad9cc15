import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The relay deletes what it published; nothing ever set `published_at`, so the partial index on
 * it held exactly what the primary key holds, and every outbox insert and delete (every event and
 * log line) maintained both. The relay polls by the primary key.
 */
export class OutboxWithoutPublishedAt1764604800000 implements MigrationInterface {
  name = 'OutboxWithoutPublishedAt1764604800000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS ix_outbox_pending`);
    await q.query(`ALTER TABLE outbox DROP COLUMN IF EXISTS published_at`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox ADD COLUMN published_at timestamptz`);
    await q.query(`CREATE INDEX ix_outbox_pending ON outbox (id) WHERE published_at IS NULL`);
  }
}
