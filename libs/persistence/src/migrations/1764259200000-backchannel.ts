import { MigrationInterface, QueryRunner } from 'typeorm';

export class Backchannel1764259200000 implements MigrationInterface {
  name = 'Backchannel1764259200000';

  public async up(q: QueryRunner): Promise<void> {
    // The service's own logout-token signing keys; the private part encrypted at rest.
    await q.query(`
      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        alg text NOT NULL,
        public_jwk jsonb NOT NULL,
        private_key_encrypted text NOT NULL,
        status text NOT NULL CHECK (status IN ('current', 'previous', 'retired')),
        created_at timestamptz NOT NULL DEFAULT now(),
        rotated_at timestamptz
      )`);
    // At most one current key, whatever instances race to create or rotate it.
    await q.query(`CREATE UNIQUE INDEX uq_signing_keys_one_current ON signing_keys (status) WHERE status = 'current'`);

    // One row per (request, session, client): the unit of back-channel delivery, scheduled here
    // rather than by sleeping in a consumer, so a slow application never holds a partition.
    await q.query(`
      CREATE TABLE backchannel_deliveries (
        id text PRIMARY KEY,
        request_id text NOT NULL,
        session_id text NOT NULL,
        user_id text NOT NULL,
        client_id text NOT NULL,
        url text NOT NULL,
        initiator text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'parked')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_status_code integer,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_delivery_request_session_client UNIQUE (request_id, session_id, client_id)
      )`);
    await q.query(
      `CREATE INDEX ix_deliveries_due ON backchannel_deliveries (next_attempt_at) WHERE status = 'pending'`,
    );
    await q.query(`CREATE INDEX ix_deliveries_status ON backchannel_deliveries (status, id)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS backchannel_deliveries`);
    await q.query(`DROP TABLE IF EXISTS signing_keys`);
  }
}
