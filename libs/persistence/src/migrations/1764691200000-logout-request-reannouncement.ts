import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SPEC §8: a logout request not complete after a while is announced again. `announced_at` is when
 * its `logout-requested` event was last written to the outbox; `reannouncements` counts the
 * repeats. The partial index holds only incomplete requests, so the sweep reads a handful of rows
 * however many completed requests the table keeps.
 */
export class LogoutRequestReannouncement1764691200000 implements MigrationInterface {
  name = 'LogoutRequestReannouncement1764691200000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE logout_requests ADD COLUMN announced_at timestamptz`);
    await q.query(`ALTER TABLE logout_requests ADD COLUMN reannouncements integer NOT NULL DEFAULT 0`);
    await q.query(`CREATE INDEX ix_logout_requests_incomplete ON logout_requests (created_at) WHERE completed_at IS NULL`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS ix_logout_requests_incomplete`);
    await q.query(`ALTER TABLE logout_requests DROP COLUMN IF EXISTS reannouncements`);
    await q.query(`ALTER TABLE logout_requests DROP COLUMN IF EXISTS announced_at`);
  }
}
