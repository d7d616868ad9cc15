import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Transactional outbox: a message is written in the same transaction as the state change it
 * announces, and a relay publishes it to Kafka afterwards. Nothing is announced that did not
 * happen, and nothing that happened goes unannounced. (Its autovacuum settings, which TypeORM
 * cannot describe, are in migration 1764345600000.)
 */
@Entity({ name: 'outbox' })
export class OutboxMessageEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'outbox_pkey' })
  id: string;

  /** Full topic name, prefix included. */
  @Column({ type: 'text' })
  topic: string;

  @Column({ name: 'message_key', type: 'text', nullable: true })
  messageKey: string | null;

  @Column({ type: 'text' })
  value: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
