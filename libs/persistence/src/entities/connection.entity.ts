import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type ConnectionStrategy = 'okta' | 'oidc' | 'samlp';

@Entity({ name: 'connections' })
export class ConnectionEntity {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text', unique: true })
  name: string;

  @Column({ type: 'text' })
  strategy: ConnectionStrategy;

  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" })
  options: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
