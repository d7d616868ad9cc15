import { Column, CreateDateColumn, Entity, OneToMany, PrimaryColumn } from 'typeorm';
import { UserIdentityEntity } from './user-identity.entity';

/** SPEC §6 `users`: the person a logout is for; sessions, refresh tokens and identities go with it. */
@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryColumn({ name: 'user_id', type: 'text', primaryKeyConstraintName: 'users_pkey' })
  userId: string;

  @Column({ type: 'text', nullable: true })
  email: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @OneToMany(() => UserIdentityEntity, (identity) => identity.user, { cascade: ['insert'] })
  identities: UserIdentityEntity[];
}
