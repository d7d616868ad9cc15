import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import type { Initiator, LogoutRequested } from '@ulo/contracts';

/** Who sent a logout request and from where, for the log (SPEC §5 `ip`, `user_agent`, `hostname`). */
export interface RequestOrigin {
  ip?: string;
  user_agent?: string;
  hostname?: string;
}

/**
 * One accepted logout (a GTR request or a Management API delete). Each consumer records its
 * count exactly once; whichever finishes second writes `universal_logout_succeeded` (SPEC §3).
 * The partial index holds only incomplete requests, which the stuck-request sweep reads (SPEC §8).
 */
@Entity({ name: 'logout_requests' })
@Index('ix_logout_requests_incomplete', ['createdAt'], { where: 'completed_at IS NULL' })
@Index('ix_logout_requests_complete', ['completedAt'], { where: 'completed_at IS NOT NULL' })
@Index('ix_logout_requests_created', ['createdAt', 'id'])
export class LogoutRequestEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'logout_requests_pkey' })
  id: string;

  @Column({ type: 'text' })
  initiator: Initiator;

  @Column({ name: 'connection_id', type: 'text', nullable: true })
  connectionId: string | null;

  @Column({ name: 'connection_name', type: 'text', nullable: true })
  connectionName: string | null;

  @Column({ name: 'user_ids', type: 'text', array: true })
  userIds: string[];

  /** The request as its `logout-requested` event carries it: what a re-announcement sends again. */
  @Column({ type: 'jsonb' })
  payload: LogoutRequested;

  @Column({ type: 'jsonb', default: {} })
  origin: RequestOrigin;

  /** The subject as the request named it (a GTR `sub_id`); null for a Management API delete. */
  @Column({ type: 'jsonb', nullable: true })
  subject: unknown;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'sessions_revoked', type: 'integer', nullable: true })
  sessionsRevoked: number | null;

  @Column({ name: 'sessions_revoked_at', type: 'timestamptz', nullable: true })
  sessionsRevokedAt: Date | null;

  @Column({ name: 'refresh_tokens_revoked', type: 'integer', nullable: true })
  refreshTokensRevoked: number | null;

  @Column({ name: 'refresh_tokens_revoked_at', type: 'timestamptz', nullable: true })
  refreshTokensRevokedAt: Date | null;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt: Date | null;

  /** When its event was last announced again because it was not complete (SPEC §8). */
  @Column({ name: 'announced_at', type: 'timestamptz', nullable: true })
  announcedAt: Date | null;

  @Column({ type: 'integer', default: 0 })
  reannouncements: number;
}
