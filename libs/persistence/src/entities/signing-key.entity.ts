import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import { SIGNING_ALGORITHMS, SIGNING_KEY_STATUSES, type SigningAlgorithm, type SigningKeyStatus } from '@ulo/contracts';
import type { JWK } from 'jose';
import { oneOf } from './check-expressions';

/**
 * A logout-token signing key (SPEC §4). JWKS publishes `current` and `previous`; the private key
 * is sealed at rest. The partial unique index allows one current key per algorithm, whatever
 * instances race to create or rotate it.
 */
@Entity({ name: 'signing_keys' })
@Index('uq_signing_keys_current_per_alg', ['alg'], { unique: true, where: "status = 'current'" })
@Check('signing_keys_status_check', oneOf('status', SIGNING_KEY_STATUSES))
@Check('signing_keys_alg_check', oneOf('alg', SIGNING_ALGORITHMS))
export class SigningKeyEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'signing_keys_pkey' })
  kid: string;

  @Column({ type: 'text' })
  alg: SigningAlgorithm;

  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk: JWK;

  @Column({ name: 'private_key_encrypted', type: 'text' })
  privateKeyEncrypted: string;

  @Column({ type: 'text' })
  status: SigningKeyStatus;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'rotated_at', type: 'timestamptz', nullable: true })
  rotatedAt: Date | null;
}
