import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Leave the client-by-client index as the only one that can serve `status = 'pending'`: with
 * statistics taken while the table was quiet, the planner otherwise picked a status index and read
 * every pending row for each client of a claim.
 */
export class DeliveryClaimPlan1764518400000 implements MigrationInterface {
  name = 'DeliveryClaimPlan1764518400000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS ix_deliveries_due`);
    await q.query(`DROP INDEX IF EXISTS ix_deliveries_status`);
    await q.query(`CREATE INDEX ix_deliveries_status ON backchannel_deliveries (status, id) WHERE status <> 'pending'`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS ix_deliveries_status`);
    await q.query(`CREATE INDEX ix_deliveries_status ON backchannel_deliveries (status, id)`);
    await q.query(`CREATE INDEX ix_deliveries_due ON backchannel_deliveries (next_attempt_at) WHERE status = 'pending'`);
  }
}
