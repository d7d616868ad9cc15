import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { UserEntity } from './user.entity';

/** SPEC §3, §6 `refresh-tokens`: a refresh token the identity platform issued (its id, never the token). */
@Entity({ name: 'refresh_tokens' })
@Index('ix_refresh_tokens_active_by_user', ['userId', 'id'], { where: 'revoked_at IS NULL' })
@Index('ix_refresh_tokens_revoked', ['revokedAt'], { where: 'revoked_at IS NOT NULL' })
export class RefreshTokenEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'refresh_tokens_pkey' })
  id: string;

  @Column({ name: 'user_id', type: 'text' })
  userId: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'refresh_tokens_user_id_fkey' })
  user?: UserEntity;

  @Column({ name: 'client_id', type: 'text' })
  clientId: string;

  /** Null for offline tokens that outlive any session. */
  @Column({ name: 'session_id', type: 'text', nullable: true })
  sessionId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'revoked_by', type: 'text', nullable: true })
  revokedBy: string | null;
}
