import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SPEC §4 client settings `backchannel_logout_signing_alg` and `backchannel_logout_session_required`:
 * one current signing key per algorithm (RS256, ES256, EdDSA) instead of one in all, and deliveries
 * of a `sub`-only token, which name no session (`session_id` NULL) and are unique per request ×
 * user × client, as the session deliveries are per request × session × client.
 */
export class BackchannelKindsAndAlgorithms1765123200000 implements MigrationInterface {
  name = 'BackchannelKindsAndAlgorithms1765123200000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX uq_signing_keys_one_current`);
    await q.query(`CREATE UNIQUE INDEX uq_signing_keys_current_per_alg ON signing_keys (alg) WHERE status = 'current'`);
    await q.query(`ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_alg_check CHECK (alg IN ('RS256', 'ES256', 'EdDSA'))`);

    await q.query(`ALTER TABLE backchannel_deliveries ALTER COLUMN session_id DROP NOT NULL`);
    await q.query(
      `CREATE UNIQUE INDEX uq_delivery_request_user_client_sub ON backchannel_deliveries (request_id, user_id, client_id)
       WHERE session_id IS NULL`,
    );
  }

  /** Back to one key and session deliveries only: `sub`-only deliveries go, other algorithms' keys retire. */
  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX uq_delivery_request_user_client_sub`);
    await q.query(`DELETE FROM backchannel_deliveries WHERE session_id IS NULL`);
    await q.query(`ALTER TABLE backchannel_deliveries ALTER COLUMN session_id SET NOT NULL`);

    await q.query(`ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_alg_check`);
    await q.query(`UPDATE signing_keys SET status = 'retired' WHERE alg <> 'RS256' AND status <> 'retired'`);
    await q.query(`DROP INDEX uq_signing_keys_current_per_alg`);
    await q.query(`CREATE UNIQUE INDEX uq_signing_keys_one_current ON signing_keys (status) WHERE status = 'current'`);
  }
}
