import { MigrationInterface, QueryRunner } from 'typeorm';

/** The dispatcher claims due deliveries client by client: this index serves each client's claim directly. */
export class DeliveryClaimIndex1764432000000 implements MigrationInterface {
  name = 'DeliveryClaimIndex1764432000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX ix_deliveries_client_due ON backchannel_deliveries (client_id, next_attempt_at, id) WHERE status = 'pending'`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS ix_deliveries_client_due`);
  }
}
