import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from './user.entity';

/**
 * A user's account at one connection. The two indexes serve the GTR subject lookups:
 * iss_sub → (connection, issuer, provider_user_id); email → (connection, lower(email)).
 */
@Entity({ name: 'user_identities' })
@Index('uq_identity_connection_issuer_sub', ['connection', 'issuer', 'providerUserId'], { unique: true })
export class UserIdentityEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'user_id', type: 'text' })
  userId: string;

  @ManyToOne(() => UserEntity, (user) => user.identities, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user: UserEntity;

  /** The connection's name (names are immutable). */
  @Column({ type: 'text' })
  connection: string;

  @Column({ name: 'provider_user_id', type: 'text' })
  providerUserId: string;

  @Column({ type: 'text' })
  issuer: string;

  @Column({ type: 'text', nullable: true })
  email: string | null;
}
