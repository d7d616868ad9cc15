import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { LogStreamEntity } from './log-stream.entity';

/** An event a log stream has still to deliver; deleted once delivered, or with its stream. */
@Entity({ name: 'log_stream_queue' })
export class LogStreamQueueItemEntity {
  @PrimaryColumn({ name: 'stream_id', type: 'text', primaryKeyConstraintName: 'log_stream_queue_pkey' })
  streamId: string;

  @PrimaryColumn({ name: 'log_id', type: 'text', primaryKeyConstraintName: 'log_stream_queue_pkey' })
  logId: string;

  @Column({ name: 'enqueued_at', type: 'timestamptz', default: () => 'now()' })
  enqueuedAt: Date;

  @ManyToOne(() => LogStreamEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'stream_id', foreignKeyConstraintName: 'log_stream_queue_stream_id_fkey' })
  stream?: LogStreamEntity;
}
