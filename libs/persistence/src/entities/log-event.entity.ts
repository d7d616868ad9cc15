import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { LogEvent } from '@ulo/contracts';

/** The queryable log. The whole event is kept in `data`; the columns exist to filter and page. */
@Entity({ name: 'log_events' })
export class LogEventEntity {
  @PrimaryColumn({ name: 'log_id', type: 'text' })
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
