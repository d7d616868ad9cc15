import { MigrationInterface, QueryRunner } from 'typeorm';
import { normalizeEmail } from '../normalized-email';

const BATCH = 1000;

/**
 * An identity belongs to a connection by id, with a foreign key: deleting a connection deletes its
 * identities (ON DELETE CASCADE), so a new connection that reuses the name inherits nobody. The
 * name column goes; the Management API reads the name through the key.
 *
 * Email subjects match on `email_normalized` (normalizeEmail: NFC, locale-free lower case, IDNA
 * domain), computed here in TypeScript, in batches, because PostgreSQL has no IDNA and its lower()
 * depends on the database's locale.
 *
 * Works on a database holding data: connection_id is filled from the name; identities whose
 * connection no longer exists are deleted and counted in a NOTICE.
 */
export class IdentitiesByConnectionId1764777600000 implements MigrationInterface {
  name = 'IdentitiesByConnectionId1764777600000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE user_identities ADD COLUMN connection_id text, ADD COLUMN email_normalized text`);
    await q.query(`UPDATE user_identities i SET connection_id = c.id FROM connections c WHERE c.name = i.connection`);
    await q.query(`
      DO $$
      DECLARE orphans bigint;
      BEGIN
        DELETE FROM user_identities WHERE connection_id IS NULL;
        GET DIAGNOSTICS orphans = ROW_COUNT;
        IF orphans > 0 THEN
          RAISE NOTICE 'user_identities: deleted % identities whose connection no longer exists', orphans;
        END IF;
      END $$`);
    await q.query(`ALTER TABLE user_identities ALTER COLUMN connection_id SET NOT NULL`);
    await q.query(`
      ALTER TABLE user_identities ADD CONSTRAINT fk_identity_connection
        FOREIGN KEY (connection_id) REFERENCES connections (id) ON DELETE CASCADE`);
    await q.query(`DROP INDEX uq_identity_connection_issuer_sub`);
    await q.query(`DROP INDEX ix_identity_connection_email`);
    await q.query(`ALTER TABLE user_identities DROP COLUMN connection`);
    // Leads with connection_id, so it also serves the cascade when a connection is deleted.
    await q.query(
      `CREATE UNIQUE INDEX uq_identity_connection_issuer_sub ON user_identities (connection_id, issuer, provider_user_id)`,
    );

    const unnormalizable = await this.fillNormalizedEmails(q);
    if (unnormalizable > 0) {
      await q.query(`
        DO $$ BEGIN
          RAISE NOTICE 'user_identities: % emails cannot be normalised; email subjects do not find them', ${unnormalizable};
        END $$`);
    }
    await q.query(`CREATE INDEX ix_identity_connection_email ON user_identities (connection_id, email_normalized)`);
  }

  /** Keyset batches in id order; returns how many emails could not be normalised (left NULL). */
  private async fillNormalizedEmails(q: QueryRunner): Promise<number> {
    let after = '0';
    let unnormalizable = 0;
    for (;;) {
      const rows: { id: string; email: string }[] = await q.query(
        // bigint arrives as a string (node-postgres), and is ordered as a number.
        `SELECT id, email FROM user_identities WHERE id > $1 AND email IS NOT NULL ORDER BY id LIMIT ${BATCH}`,
        [after],
      );
      if (rows.length === 0) return unnormalizable;
      const ids: string[] = [];
      const normalized: string[] = [];
      for (const row of rows) {
        const n = normalizeEmail(row.email);
        if (n === null) unnormalizable++;
        else {
          ids.push(row.id);
          normalized.push(n);
        }
      }
      if (ids.length) {
        await q.query(
          `UPDATE user_identities i SET email_normalized = v.n
           FROM unnest($1::bigint[], $2::text[]) AS v (id, n) WHERE i.id = v.id`,
          [ids, normalized],
        );
      }
      after = rows[rows.length - 1].id;
    }
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS ix_identity_connection_email`);
    await q.query(`DROP INDEX IF EXISTS uq_identity_connection_issuer_sub`);
    await q.query(`ALTER TABLE user_identities ADD COLUMN connection text`);
    await q.query(`UPDATE user_identities i SET connection = c.name FROM connections c WHERE c.id = i.connection_id`);
    await q.query(`ALTER TABLE user_identities ALTER COLUMN connection SET NOT NULL`);
    await q.query(`ALTER TABLE user_identities DROP COLUMN connection_id, DROP COLUMN email_normalized`);
    await q.query(
      `CREATE UNIQUE INDEX uq_identity_connection_issuer_sub ON user_identities (connection, issuer, provider_user_id)`,
    );
    await q.query(`CREATE INDEX ix_identity_connection_email ON user_identities (connection, lower(email))`);
  }
}
