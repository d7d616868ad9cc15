import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { LogEvent } from '@ulo/contracts';
import { runSql, sqlRows } from './sql';

/** The filters of SPEC §5 `GET /api/v2/logs`, each exact; the bounds exclusive unless named so. */
export interface LogEventFilter {
  /** log_id after which the page starts. */
  after?: string;
  type?: string;
  userId?: string;
  connection?: string;
  clientId?: string;
  /** `date >= fromDate`. */
  fromDate?: Date;
  /** `date < toDate`. */
  toDate?: Date;
  /** `log_id >= logIdFrom`: lets each (column, log_id) index start at a date. */
  logIdFrom?: string;
  /** `log_id < logIdBefore`. */
  logIdBefore?: string;
}

/** The queryable log (SPEC §5): the one writer of `log_events`, and its reader. */
@Injectable()
export class LogEventRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Stores those of `events` not stored yet (idempotent by log_id), in the caller's transaction,
   * in one statement; returns the log_ids it stored, in the order given. The batch travels as one
   * JSON array, which PostgreSQL takes apart: seven text arrays would have every element escaped
   * by the driver, the events' JSON text included.
   */
  async insert(tx: EntityManager, events: LogEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    const { rows } = await runSql<{ log_id: string }>(
      tx,
      `INSERT INTO log_events (log_id, date, type, user_id, connection, client_id, data)
       SELECT e->>'log_id', (e->>'date')::timestamptz, e->>'type', e->>'user_id', e->>'connection', e->>'client_id', e
       FROM jsonb_array_elements($1::jsonb) AS e
       ORDER BY 1
       ON CONFLICT (log_id) DO NOTHING
       RETURNING log_id`,
      [JSON.stringify(events)],
    );
    const stored = new Set(rows.map((r) => r.log_id));
    return events.map((e) => e.log_id).filter((id) => stored.has(id));
  }

  /** Up to `limit` events matching `filter`, in log_id order: each filter pages through its (column, log_id) index. */
  async page(filter: LogEventFilter, limit: number): Promise<LogEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (condition: (param: string) => string, value: unknown) => {
      if (value === undefined) return;
      params.push(value);
      where.push(condition(`$${params.length}`));
    };
    add((p) => `log_id > ${p}`, filter.after);
    add((p) => `type = ${p}`, filter.type);
    add((p) => `user_id = ${p}`, filter.userId);
    add((p) => `connection = ${p}`, filter.connection);
    add((p) => `client_id = ${p}`, filter.clientId);
    add((p) => `date >= ${p}`, filter.fromDate);
    add((p) => `log_id >= ${p}`, filter.logIdFrom);
    add((p) => `date < ${p}`, filter.toDate);
    add((p) => `log_id < ${p}`, filter.logIdBefore);
    params.push(limit);
    const rows = await sqlRows<{ data: LogEvent }>(
      this.dataSource.manager,
      `SELECT data FROM log_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY log_id LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => r.data);
  }

  async find(logId: string): Promise<LogEvent | null> {
    const [row] = await sqlRows<{ data: LogEvent }>(this.dataSource.manager, `SELECT data FROM log_events WHERE log_id = $1`, [logId]);
    return row?.data ?? null;
  }

  /** SPEC §9: the latest `ssf_event_accepted` of a connection for one SSF event type (verification, stream-updated). */
  async latestSsfEvent(connection: string, eventType: string): Promise<LogEvent | null> {
    const [row] = await sqlRows<{ data: LogEvent }>(
      this.dataSource.manager,
      `SELECT data FROM log_events WHERE connection = $1 AND type = 'ssf_event_accepted' AND data->'details'->>'event_type' = $2 ORDER BY log_id DESC LIMIT 1`,
      [connection, eventType],
    );
    return row?.data ?? null;
  }
}
