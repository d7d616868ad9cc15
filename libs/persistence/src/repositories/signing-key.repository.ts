import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { JWK } from 'jose';
import type { SigningAlgorithm, SigningKeyStatus } from '@ulo/contracts';
import { SigningKeyEntity } from '../entities/signing-key.entity';
import { runSql, sqlRows } from './sql';

/** A key about to be stored: its private part already sealed. */
export interface NewSigningKey {
  kid: string;
  alg: SigningAlgorithm;
  publicJwk: JWK;
  privateKeyEncrypted: string;
}

interface SigningKeyRow {
  kid: string;
  alg: SigningAlgorithm;
  public_jwk: JWK;
  private_key_encrypted: string;
  status: SigningKeyStatus;
  created_at: Date;
  rotated_at: Date | null;
}

const entityOf = (r: SigningKeyRow): SigningKeyEntity =>
  Object.assign(new SigningKeyEntity(), {
    kid: r.kid,
    alg: r.alg,
    publicJwk: r.public_jwk,
    privateKeyEncrypted: r.private_key_encrypted,
    status: r.status,
    createdAt: r.created_at,
    rotatedAt: r.rotated_at,
  });

/** `signing_keys` (SPEC §4): the service's logout-token keys, at most one `current` per algorithm (a unique index). */
@Injectable()
export class SigningKeyRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Every key, newest first. */
  async list(): Promise<SigningKeyEntity[]> {
    const rows = await sqlRows<SigningKeyRow>(
      this.dataSource.manager,
      `SELECT * FROM signing_keys ORDER BY created_at DESC, kid`,
    );
    return rows.map(entityOf);
  }

  /** The current key of each algorithm that has one. */
  async currents(): Promise<SigningKeyEntity[]> {
    const rows = await sqlRows<SigningKeyRow>(this.dataSource.manager, `SELECT * FROM signing_keys WHERE status = 'current' ORDER BY alg`);
    return rows.map(entityOf);
  }

  async current(alg: SigningAlgorithm): Promise<SigningKeyEntity | null> {
    const [row] = await sqlRows<SigningKeyRow>(this.dataSource.manager, `SELECT * FROM signing_keys WHERE status = 'current' AND alg = $1`, [alg]);
    return row ? entityOf(row) : null;
  }

  /** Stores `key` as the current one of its algorithm unless there is one (several instances may start at once). */
  async insertIfNoCurrent(key: NewSigningKey): Promise<void> {
    await runSql(
      this.dataSource.manager,
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_key_encrypted, status) VALUES ($1, $2, $3, $4, 'current')
       ON CONFLICT DO NOTHING`,
      [key.kid, key.alg, JSON.stringify(key.publicJwk), key.privateKeyEncrypted],
    );
  }

  /**
   * In one transaction, for each key's algorithm: its previous key retires, its current one becomes
   * previous and the new key current. The table lock orders concurrent rotations one after the other.
   */
  async rotateTo(keys: NewSigningKey[]): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      await runSql(tx, `LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE`);
      for (const key of keys) {
        await runSql(tx, `UPDATE signing_keys SET status = 'retired' WHERE status = 'previous' AND alg = $1`, [key.alg]);
        await runSql(tx, `UPDATE signing_keys SET status = 'previous', rotated_at = now() WHERE status = 'current' AND alg = $1`, [key.alg]);
        await runSql(
          tx,
          `INSERT INTO signing_keys (kid, alg, public_jwk, private_key_encrypted, status) VALUES ($1, $2, $3, $4, 'current')`,
          [key.kid, key.alg, JSON.stringify(key.publicJwk), key.privateKeyEncrypted],
        );
      }
    });
  }

  /** Replaces a key's sealed private part if it is still `expected`; false when it changed meanwhile. */
  async replaceSealed(tx: EntityManager, kid: string, sealed: string, expected: string): Promise<boolean> {
    const { affected } = await runSql(
      tx,
      `UPDATE signing_keys SET private_key_encrypted = $2 WHERE kid = $1 AND private_key_encrypted = $3`,
      [kid, sealed, expected],
    );
    return affected === 1;
  }
}
