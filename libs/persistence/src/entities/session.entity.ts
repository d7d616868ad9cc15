import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, OneToMany, PrimaryColumn } from 'typeorm';
import { SessionClientEntity } from './session-client.entity';
import { UserEntity } from './user.entity';

/**
 * SPEC §3, §6 `sessions`: a login session the identity platform registered. A logout sets
 * `revoked_at` and `revoked_by` (the request id); the partial index holds only active sessions,
 * which is what a logout looks for.
 */
@Entity({ name: 'sessions' })
@Index('ix_sessions_active_by_user', ['userId', 'id'], { where: 'revoked_at IS NULL' })
@Index('ix_sessions_revoked', ['revokedAt'], { where: 'revoked_at IS NOT NULL' })
export class SessionEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'sessions_pkey' })
  id: string;

  @Column({ name: 'user_id', type: 'text' })
  userId: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'sessions_user_id_fkey' })
  user?: UserEntity;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  /** The logout request that revoked it: makes a redelivered request a no-op. */
  @Column({ name: 'revoked_by', type: 'text', nullable: true })
  revokedBy: string | null;

  @Column({ type: 'jsonb', default: {} })
  metadata: Record<string, unknown>;

  @OneToMany(() => SessionClientEntity, (c) => c.session, { cascade: ['insert'] })
  clients: SessionClientEntity[];
}
