import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { LogEvent } from '@ulo/contracts';

/**
 * SPEC §5 the queryable log. The whole event is kept in `data`; the columns exist to filter and
 * page: each filter of GET /api/v2/logs pages in log_id order through its own (column, log_id) index.
 *
 * The migrations partition the table by range of log_id, one partition per UTC day plus a default
 * one (LogEventsPartitionedByDay1764950400000, LogPartitionsRepository), so that a day past the
 * retention is dropped whole. TypeORM cannot describe partitioning: built from this entity alone
 * (synchronize), the table is a plain one with the same columns, keys and indexes.
 */
@Entity({ name: 'log_events' })
@Index('ix_log_events_type', ['type', 'logId'])
@Index('ix_log_events_user', ['userId', 'logId'])
@Index('ix_log_events_connection', ['connection', 'logId'])
@Index('ix_log_events_client', ['clientId', 'logId'])
@Index('ix_log_events_date', ['date'])
export class LogEventEntity {
  @PrimaryColumn({ name: 'log_id', type: 'text', primaryKeyConstraintName: 'log_events_pkey' })
  logId: string;

  @Column({ type: 'timestamptz' })
  date: Date;

  @Column({ type: 'text' })
  type: string;

  @Column({ name: 'user_id', type: 'text', nullable: true })
  userId: string | null;

  @Column({ type: 'text', nullable: true })
  connection: string | null;

  @Column({ name: 'client_id', type: 'text', nullable: true })
  clientId: string | null;

  @Column({ type: 'jsonb' })
  data: LogEvent;
}
