import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * SPEC §2.5 replay protection shared by every gateway instance: (connection, jti) is unique while
 * the token could be valid; swept by expiry.
 */
@Entity({ name: 'seen_jtis' })
@Index('ix_seen_jtis_expiry', ['expiresAt'])
export class SeenJtiEntity {
  @PrimaryColumn({ name: 'connection_id', type: 'text', primaryKeyConstraintName: 'seen_jtis_pkey' })
  connectionId: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'seen_jtis_pkey' })
  jti: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
