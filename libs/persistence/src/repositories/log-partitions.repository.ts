import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { encodeTime } from 'ulid';
import { pause } from '@ulo/resilience';
import { sqlRows } from './sql';

const DAY_MS = 86_400_000;

const COLUMNS = 'log_id, date, type, user_id, connection, client_id, data';

/**
 * How long a DDL statement waits for its lock. A lock request that waits makes every later request
 * that conflicts with it wait too: without a bound, one long query on the log would stall the
 * pipeline's inserts behind the DDL waiting for that query.
 */
const LOCK_TIMEOUT = `SET LOCAL lock_timeout = '500ms'`;

/** Attempts at dropping one partition before keeping it for the next run, and the pause between them. */
const DROP_ATTEMPTS = 3;
const DROP_RETRY_PAUSE_MS = 200;

/** A partition of `log_events`: `from` inclusive, `to` exclusive; null for MINVALUE, MAXVALUE or the default partition. */
export interface LogPartition {
  name: string;
  from: string | null;
  to: string | null;
  isDefault: boolean;
}

interface DayRange {
  name: string;
  startMs: number;
  from: string;
  to: string;
}

const RANGE_BOUND = /^FOR VALUES FROM \((?:'([^']*)'|MINVALUE)\) TO \((?:'([^']*)'|MAXVALUE)\)$/;

function toPartition(name: string, bound: string): LogPartition {
  if (bound === 'DEFAULT') return { name, from: null, to: null, isDefault: true };
  const match = RANGE_BOUND.exec(bound);
  if (match === null) throw new Error(`log_events partition ${name} has a bound that is not a range of log_id: ${bound}`);
  return { name, from: match[1] ?? null, to: match[2] ?? null, isDefault: false };
}

/** The UTC day starting at `startMs`: `log_events_YYYYMMDD`, from its first ULID time prefix to the next day's. */
function dayRange(startMs: number): DayRange {
  const name = `log_events_${new Date(startMs).toISOString().slice(0, 10).replace(/-/g, '')}`;
  return { name, startMs, from: encodeTime(startMs, 10), to: encodeTime(startMs + DAY_MS, 10) };
}

/** JavaScript compares ASCII strings as the C collation does. */
const overlaps = (p: LogPartition, day: DayRange): boolean =>
  !p.isDefault && (p.from === null || p.from < day.to) && (p.to === null || p.to > day.from);

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

const keptFor = (streamIds: string[]): string => `events queued for log stream ${streamIds.join(', ')}`;

function isLockTimeout(err: unknown): boolean {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  return e?.driverError?.code === '55P03' || e?.code === '55P03';
}

/**
 * The day partitions of `log_events` (see the migration LogEventsPartitionedByDay1764950400000):
 * days are created ahead of the events that fill them, and a day past the retention is dropped
 * whole instead of deleted row by row. The DDL never waits more than 500 ms for a lock; what it
 * could not do is left for the next run.
 */
@Injectable()
export class LogPartitionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Every partition of `log_events`, as the catalog bounds it, in log_id order; the default last. */
  async partitions(): Promise<LogPartition[]> {
    return this.partitionsOf(this.dataSource.manager);
  }

  /**
   * Creates the partitions missing for the UTC days from `now`'s to `daysAhead` days later, each in
   * a transaction of its own, moving into it the rows of its day the default partition holds.
   * Returns the names of the partitions it created; stops early, without failing, when a lock
   * is not to be had in time (the next run goes on).
   */
  async ensureAhead(daysAhead: number, now = new Date()): Promise<string[]> {
    const today = now.getTime() - (now.getTime() % DAY_MS);
    const existing = await this.partitions();
    const created: string[] = [];
    for (let i = 0; i <= daysAhead; i++) {
      const day = dayRange(today + i * DAY_MS);
      if (existing.some((p) => overlaps(p, day))) continue;
      try {
        if (await this.createDay(day, day.startMs <= now.getTime())) created.push(day.name);
      } catch (err) {
        if (isLockTimeout(err)) break;
        throw err;
      }
    }
    return created;
  }

  /**
   * Drops, oldest first, every day partition whose whole range lies before `cutoff`, except one
   * holding an event still queued for a log stream (of any status: a paused stream loses nothing,
   * SPEC §5) and one whose lock was not to be had in a few attempts; those are kept, with the
   * reason. `rows` is an exact count(*) of the partition, taken before its lock. The default
   * partition is never dropped.
   */
  async dropBefore(cutoff: Date): Promise<{ dropped: { name: string; rows: number }[]; kept: { name: string; reason: string }[] }> {
    const bound = encodeTime(cutoff.getTime(), 10);
    const dropped: { name: string; rows: number }[] = [];
    const kept: { name: string; reason: string }[] = [];
    const old = (await this.partitions()).filter((p) => !p.isDefault && p.from !== null && p.to !== null && p.to <= bound);
    for (const partition of old) {
      const queuedFor = await this.streamsQueueing(this.dataSource.manager, partition);
      if (queuedFor.length > 0) {
        kept.push({ name: partition.name, reason: keptFor(queuedFor) });
        continue;
      }
      const [{ n }] = await this.dataSource.query<{ n: string }[]>(`SELECT count(*) AS n FROM ${ident(partition.name)}`);
      const outcome = await this.drop(partition);
      if (outcome === 'dropped') dropped.push({ name: partition.name, rows: Number(n) });
      else kept.push({ name: partition.name, reason: outcome === 'lock timeout' ? outcome : keptFor(outcome) });
    }
    return { dropped, kept };
  }

  /**
   * Deletes up to `limit` events older than `cutoff` from the default partition (the days that had
   * no partition when they were written, a late event of a day already dropped), oldest first,
   * except those still queued for a log stream; non-ULID ids stay. Returns how many. The default
   * partition is normally nearly empty: row by row is cheap there.
   */
  async pruneDefaultBefore(cutoff: Date, limit: number): Promise<number> {
    const [row] = await sqlRows<{ n: number }>(
      this.dataSource.manager,
      `WITH old AS (
         SELECT d.log_id FROM log_events_default d
         WHERE d.log_id < $1 AND d.log_id ~ '^[0-7][0-9A-HJKMNP-TV-Z]{25}$'
           AND NOT EXISTS (
             SELECT 1 FROM log_streams s JOIN log_stream_queue q ON q.stream_id = s.id AND q.log_id = d.log_id)
         ORDER BY d.log_id LIMIT $2
         FOR UPDATE SKIP LOCKED),
       gone AS (DELETE FROM log_events_default d USING old WHERE d.log_id = old.log_id RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [encodeTime(cutoff.getTime(), 10), limit],
    );
    return row.n;
  }

  private async partitionsOf(manager: EntityManager): Promise<LogPartition[]> {
    const rows = await sqlRows<{ name: string; bound: string }>(
      manager,
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = to_regclass('log_events')`,
    );
    const all = rows.map((r) => toPartition(r.name, r.bound));
    // Ranges do not overlap: ordered by their lower bounds (MINVALUE first).
    const ranges = all.filter((p) => !p.isDefault).sort((a, b) => ((a.from ?? '') < (b.from ?? '') ? -1 : 1));
    return [...ranges, ...all.filter((p) => p.isDefault)];
  }

  /** The streams that have an event of `partition`'s range still to deliver, in id order. */
  private async streamsQueueing(manager: EntityManager, partition: LogPartition): Promise<string[]> {
    const rows = await sqlRows<{ id: string }>(
      manager,
      `SELECT s.id FROM log_streams s
       WHERE EXISTS (SELECT 1 FROM log_stream_queue q WHERE q.stream_id = s.id AND q.log_id >= $1 AND q.log_id < $2)
       ORDER BY s.id`,
      [partition.from, partition.to],
    );
    return rows.map((r) => r.id);
  }

  /**
   * One day's partition, created standalone and attached, so that the partitioned table is locked
   * in SHARE UPDATE EXCLUSIVE mode (reads and inserts go on), not the ACCESS EXCLUSIVE of
   * CREATE TABLE … PARTITION OF; the default partition is locked whole while its rows of the day
   * move. For a day that has begun (`writersWait`), inserts wait too: one routed to the default
   * partition while the day is attached would fail its partition constraint once the attach commits.
   * False if another run created the day meanwhile.
   */
  private async createDay(day: DayRange, writersWait: boolean): Promise<boolean> {
    return this.dataSource.transaction(async (tx) => {
      await tx.query(LOCK_TIMEOUT);
      await tx.query(`LOCK TABLE ONLY log_events IN ${writersWait ? 'SHARE ROW EXCLUSIVE' : 'SHARE UPDATE EXCLUSIVE'} MODE`);
      const existing = await this.partitionsOf(tx);
      if (existing.some((p) => overlaps(p, day))) return false;
      const fallback = existing.find((p) => p.isDefault);
      if (fallback) await tx.query(`LOCK TABLE ${ident(fallback.name)} IN ACCESS EXCLUSIVE MODE`);
      await tx.query(`CREATE TABLE ${ident(day.name)} (LIKE log_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
      if (fallback) {
        await tx.query(
          `WITH moved AS (DELETE FROM ${ident(fallback.name)} WHERE log_id >= $1 AND log_id < $2 RETURNING ${COLUMNS})
           INSERT INTO ${ident(day.name)} (${COLUMNS}) SELECT ${COLUMNS} FROM moved`,
          [day.from, day.to],
        );
      }
      // Builds the partition's indexes and checks its rows; bounds are base32, nothing to escape.
      await tx.query(`ALTER TABLE log_events ATTACH PARTITION ${ident(day.name)} FOR VALUES FROM ('${day.from}') TO ('${day.to}')`);
      return true;
    });
  }

  /**
   * DROP TABLE of a partition locks the partitioned table (and the default partition) in ACCESS
   * EXCLUSIVE mode. Taken first: with it held no insert is in flight, so the queue read under it
   * is final (the log-streamer queues an event in the transaction that inserts it).
   */
  private async drop(partition: LogPartition): Promise<'dropped' | 'lock timeout' | string[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction(async (tx) => {
          await tx.query(LOCK_TIMEOUT);
          await tx.query(`LOCK TABLE ONLY log_events IN ACCESS EXCLUSIVE MODE`);
          const queuedFor = await this.streamsQueueing(tx, partition);
          if (queuedFor.length > 0) return queuedFor;
          await tx.query(`DROP TABLE ${ident(partition.name)}`);
          return 'dropped' as const;
        });
      } catch (err) {
        if (!isLockTimeout(err)) throw err;
        if (attempt === DROP_ATTEMPTS) return 'lock timeout';
        await pause(DROP_RETRY_PAUSE_MS);
      }
    }
  }
}
