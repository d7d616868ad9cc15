import { Check, Column, CreateDateColumn, Entity, PrimaryColumn, Unique, UpdateDateColumn } from 'typeorm';
import { CONNECTION_STRATEGIES, type ConnectionStrategy, type SsfActions, type SsfDelivery } from '@ulo/contracts';
import { oneOf } from './check-expressions';

/**
 * SPEC §9 `options.ssf` as stored: the push Authorization header and the client secret are
 * secrets, stored only sealed (SealedFor.connectionSsf*, under SIGNING_KEY_ENCRYPTION_SECRET),
 * never returned.
 */
export interface StoredSsfOptions {
  issuer: string;
  audience: string;
  push_authorization_sealed: string;
  client_id?: string;
  client_secret_sealed?: string;
  actions: SsfActions;
  /** SSF 1.0 §8.1.1: the stream this service created at the transmitter (`POST …/ssf-stream`), while it exists. */
  stream_id?: string;
  /** RFC 8936: "poll" when this service polls the transmitter; absent: it pushes. */
  delivery?: SsfDelivery;
  /** RFC 8936 §2: the poll endpoint the transmitter gave the stream (poll delivery only). */
  poll_endpoint?: string;
}

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
