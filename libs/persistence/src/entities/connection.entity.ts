import { Check, Column, CreateDateColumn, Entity, PrimaryColumn, Unique, UpdateDateColumn } from 'typeorm';
import { CONNECTION_STRATEGIES, type ConnectionStrategy } from '@ulo/contracts';
import { oneOf } from './check-expressions';

/** SPEC §6 `connections`: an identity provider and the trust anchor of its revocation requests. */
@Entity({ name: 'connections' })
@Unique('uq_connections_name', ['name'])
@Check('connections_strategy_check', oneOf('strategy', CONNECTION_STRATEGIES))
export class ConnectionEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'connections_pkey' })
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  strategy: ConnectionStrategy;

  @Column({ type: 'jsonb', default: {} })
  options: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
