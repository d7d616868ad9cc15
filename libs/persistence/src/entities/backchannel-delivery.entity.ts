import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn, Unique, UpdateDateColumn } from 'typeorm';
import { DELIVERY_STATUSES, type DeliveryStatus, type Initiator } from '@ulo/contracts';
import { oneOf } from './check-expressions';

/**
 * One back-channel logout token to deliver (SPEC §4): a terminated session × a client that took
 * part in it, or (`session_id` NULL, a `sub`-only token) a user × a client that does not require
 * `sid`, when the logout covered all of the user's sessions. Unique per request × session × client
 * and per request × user × client for the `sub`-only kind, so a redelivered chunk plans nothing
 * twice. Only `ix_deliveries_client_due` serves `status = 'pending'`: the claim goes client by client.
 */
@Entity({ name: 'backchannel_deliveries' })
@Unique('uq_delivery_request_session_client', ['requestId', 'sessionId', 'clientId'])
@Index('uq_delivery_request_user_client_sub', ['requestId', 'userId', 'clientId'], { unique: true, where: 'session_id IS NULL' })
@Index('ix_deliveries_client_due', ['clientId', 'nextAttemptAt', 'id'], { where: "status = 'pending'" })
@Index('ix_deliveries_status', ['status', 'id'], { where: "status <> 'pending'" })
@Check('backchannel_deliveries_status_check', oneOf('status', DELIVERY_STATUSES))
export class BackchannelDeliveryEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'backchannel_deliveries_pkey' })
  id: string;

  @Column({ name: 'request_id', type: 'text' })
  requestId: string;

  /** NULL for a `sub`-only token (SPEC §4). */
  @Column({ name: 'session_id', type: 'text', nullable: true })
  sessionId: string | null;

  @Column({ name: 'user_id', type: 'text' })
  userId: string;

  @Column({ name: 'client_id', type: 'text' })
  clientId: string;

  @Column({ type: 'text' })
  url: string;

  @Column({ type: 'text' })
  initiator: Initiator;

  @Column({ type: 'text' })
  status: DeliveryStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  @Column({ name: 'last_status_code', type: 'integer', nullable: true })
  lastStatusCode: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
