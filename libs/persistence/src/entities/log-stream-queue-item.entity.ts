import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An event a log stream has still to deliver; deleted once delivered. */
@Entity({ name: 'log_stream_queue' })
export class LogStreamQueueItemEntity {
  @PrimaryColumn({ name: 'stream_id', type: 'text' })
  streamId: string;

  @PrimaryColumn({ name: 'log_id', type: 'text' })
  logId: string;

  @Column({ name: 'enqueued_at', type: 'timestamptz', default: () => 'now()' })
  enqueuedAt: Date;
}
