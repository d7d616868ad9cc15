import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox is a queue: rows live for milliseconds and every relay poll walks the index from its
 * head, over the entries of deleted rows until vacuum removes them. Vacuum it after every thousand
 * deletions instead of after a fifth of the table (where autovacuum is on).
 */
export class OutboxAutovacuum1764345600000 implements MigrationInterface {
  name = 'OutboxAutovacuum1764345600000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0)`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE outbox RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, autovacuum_vacuum_cost_delay)`,
    );
  }
}
