import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The indexes the retention prune walks, oldest first, a bounded chunk at a time: revoked
 * sessions and refresh tokens by revocation time, complete logout requests by completion time.
 * Partial, so that the active rows the pipeline reads and writes never enter them.
 */
export class RetentionIndexes1765036800000 implements MigrationInterface {
  name = 'RetentionIndexes1765036800000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX ix_sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL`);
    await q.query(`CREATE INDEX ix_refresh_tokens_revoked ON refresh_tokens (revoked_at) WHERE revoked_at IS NOT NULL`);
    await q.query(`CREATE INDEX ix_logout_requests_complete ON logout_requests (completed_at) WHERE completed_at IS NOT NULL`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_logout_requests_complete`);
    await q.query(`DROP INDEX ix_refresh_tokens_revoked`);
    await q.query(`DROP INDEX ix_sessions_revoked`);
  }
}
