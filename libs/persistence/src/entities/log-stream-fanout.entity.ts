import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A log event the log-streamer has queued for the streams: a redelivery is not queued twice. */
@Entity({ name: 'log_stream_fanouts' })
export class LogStreamFanoutEntity {
  @PrimaryColumn({ name: 'log_id', type: 'text', primaryKeyConstraintName: 'log_stream_fanouts_pkey' })
  logId: string;

  @Column({ name: 'fanned_out_at', type: 'timestamptz', default: () => 'now()' })
  fannedOutAt: Date;
}
