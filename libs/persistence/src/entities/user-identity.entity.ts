import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ConnectionEntity } from './connection.entity';
import { UserEntity } from './user.entity';

/**
 * A user's account at one connection, which it belongs to by id: deleting the connection deletes
 * the identity (a later connection with the same name inherits nobody). The two indexes serve the
 * GTR subject lookups (SPEC §2): iss_sub → (connection_id, issuer, provider_user_id); email →
 * (connection_id, email_normalized).
 */
@Entity({ name: 'user_identities' })
@Index('uq_identity_connection_issuer_sub', ['connectionId', 'issuer', 'providerUserId'], { unique: true })
@Index('ix_identity_connection_email', ['connectionId', 'emailNormalized'])
@Index('ix_identity_user', ['userId'])
export class UserIdentityEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'user_identities_pkey' })
  id: string;

  @Column({ name: 'user_id', type: 'text' })
  userId: string;

  @ManyToOne(() => UserEntity, (user) => user.identities, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'user_identities_user_id_fkey' })
  user: UserEntity;

  @Column({ name: 'connection_id', type: 'text' })
  connectionId: string;

  @ManyToOne(() => ConnectionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'connection_id', foreignKeyConstraintName: 'fk_identity_connection' })
  connection: ConnectionEntity;

  @Column({ name: 'provider_user_id', type: 'text' })
  providerUserId: string;

  @Column({ type: 'text' })
  issuer: string;

  /** As given. */
  @Column({ type: 'text', nullable: true })
  email: string | null;

  /** normalizeEmail(email): what GTR `email` subjects are compared with; NULL when it cannot be normalised. */
  @Column({ name: 'email_normalized', type: 'text', nullable: true })
  emailNormalized: string | null;
}
