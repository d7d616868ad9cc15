import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * An event a log stream has still to deliver; deleted once delivered, or with its stream
 * (LogStreamRepository.remove). No foreign key: it would be checked row by row on the
 * log-streamer's hottest insert; the fan-out locks the streams it queues for once per statement.
 */
@Entity({ name: 'log_stream_queue' })
export class LogStreamQueueItemEntity {
  @PrimaryColumn({ name: 'stream_id', type: 'text', primaryKeyConstraintName: 'log_stream_queue_pkey' })
  streamId: string;

  @PrimaryColumn({ name: 'log_id', type: 'text', primaryKeyConstraintName: 'log_stream_queue_pkey' })
  logId: string;

  @Column({ name: 'enqueued_at', type: 'timestamptz', default: () => 'now()' })
  enqueuedAt: Date;
}
