import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SPEC §6 `logout-requests`: what happened to one logout. The subject as the request named it,
 * when each step recorded itself, and the index the list pages on, newest first.
 */
export class LogoutRequestTimeline1765209600000 implements MigrationInterface {
  name = 'LogoutRequestTimeline1765209600000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE logout_requests ADD COLUMN subject jsonb`);
    await q.query(`ALTER TABLE logout_requests ADD COLUMN sessions_revoked_at timestamptz`);
    await q.query(`ALTER TABLE logout_requests ADD COLUMN refresh_tokens_revoked_at timestamptz`);
    await q.query(`CREATE INDEX ix_logout_requests_created ON logout_requests (created_at, id)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_logout_requests_created`);
    await q.query(`ALTER TABLE logout_requests DROP COLUMN refresh_tokens_revoked_at`);
    await q.query(`ALTER TABLE logout_requests DROP COLUMN sessions_revoked_at`);
    await q.query(`ALTER TABLE logout_requests DROP COLUMN subject`);
  }
}
