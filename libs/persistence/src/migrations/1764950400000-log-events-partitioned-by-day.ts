import { MigrationInterface, QueryRunner } from 'typeorm';
import { decodeTime, encodeTime } from 'ulid';

const DAY_MS = 86_400_000;

/** A log_id that is a ULID whose time fits 48 bits: its first 10 characters are the millisecond it was minted. */
const ULID_PATTERN = '^[0-7][0-9A-HJKMNP-TV-Z]{25}$';

const COLUMNS = 'log_id, date, type, user_id, connection, client_id, data';

const COLUMN_DEFINITIONS = `
  log_id text NOT NULL,
  date timestamptz NOT NULL,
  type text NOT NULL,
  user_id text,
  connection text,
  client_id text,
  data jsonb NOT NULL`;

/** The partition of the UTC day starting at `dayStartMs`: log_events_YYYYMMDD. */
const dayPartition = (dayStartMs: number): string => `log_events_${new Date(dayStartMs).toISOString().slice(0, 10).replace(/-/g, '')}`;

const startOfUtcDay = (ms: number): number => ms - (ms % DAY_MS);

/**
 * The primary key and the indexes of the initial schema, under their names, built once the rows
 * are in: one sort per index instead of six index insertions per copied row.
 */
async function addKeysAndIndexes(q: QueryRunner): Promise<void> {
  await q.query(`ALTER TABLE log_events ADD CONSTRAINT log_events_pkey PRIMARY KEY (log_id)`);
  await q.query(`CREATE INDEX ix_log_events_type ON log_events (type, log_id)`);
  await q.query(`CREATE INDEX ix_log_events_user ON log_events (user_id, log_id)`);
  await q.query(`CREATE INDEX ix_log_events_connection ON log_events (connection, log_id)`);
  await q.query(`CREATE INDEX ix_log_events_client ON log_events (client_id, log_id)`);
  await q.query(`CREATE INDEX ix_log_events_date ON log_events (date)`);
}

/**
 * `log_events` becomes a table partitioned by range of log_id, one partition per UTC day
 * (`log_events_YYYYMMDD`, from the day's first ULID time prefix to the next day's), plus
 * `log_events_default` for ids that are not ULIDs and days without a partition yet. The log is
 * kept for a retention period: deleting a day row by row writes every row a second time (WAL,
 * dead tuples, vacuum) on the table the pipeline inserts into, while dropping a partition costs
 * the same whatever the day held. By log_id rather than by `date`: ULIDs sort by their minting
 * time, so every statement on the table (the writers' `ON CONFLICT (log_id)`, the
 * `log_id > $from ORDER BY log_id` pages) keeps its primary key, which on a partitioned table
 * must contain the partition key.
 *
 * The rows are copied into a new table with a partition for every day their ULIDs span, and for
 * today and the next 3 days. Writers wait for the copy (the old table is locked in EXCLUSIVE
 * mode; readers go on), so none of their rows is lost with the old table. Later days are created
 * ahead, and old ones dropped, by LogPartitionsRepository.
 */
export class LogEventsPartitionedByDay1764950400000 implements MigrationInterface {
  name = 'LogEventsPartitionedByDay1764950400000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`LOCK TABLE log_events IN EXCLUSIVE MODE`);
    const [span]: { first: string | null; last: string | null }[] = await q.query(
      `SELECT min(log_id) AS first, max(log_id) AS last FROM log_events WHERE log_id ~ $1`,
      [ULID_PATTERN],
    );
    const days = new Set<number>();
    const addDays = (first: number, last: number) => {
      for (let day = startOfUtcDay(first); day <= last; day += DAY_MS) days.add(day);
    };
    if (span.first !== null && span.last !== null) addDays(decodeTime(span.first), decodeTime(span.last));
    const today = startOfUtcDay(Date.now());
    addDays(today, today + 3 * DAY_MS);

    await q.query(`CREATE TABLE log_events_partitioned (${COLUMN_DEFINITIONS}) PARTITION BY RANGE (log_id)`);
    for (const day of [...days].sort((a, b) => a - b)) {
      await q.query(
        `CREATE TABLE ${dayPartition(day)} PARTITION OF log_events_partitioned
         FOR VALUES FROM ('${encodeTime(day, 10)}') TO ('${encodeTime(day + DAY_MS, 10)}')`,
      );
    }
    await q.query(`CREATE TABLE log_events_default PARTITION OF log_events_partitioned DEFAULT`);
    await q.query(`INSERT INTO log_events_partitioned (${COLUMNS}) SELECT ${COLUMNS} FROM log_events`);
    await q.query(`DROP TABLE log_events`);
    await q.query(`ALTER TABLE log_events_partitioned RENAME TO log_events`);
    await addKeysAndIndexes(q);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`LOCK TABLE log_events IN EXCLUSIVE MODE`);
    await q.query(`CREATE TABLE log_events_unpartitioned (${COLUMN_DEFINITIONS})`);
    await q.query(`INSERT INTO log_events_unpartitioned (${COLUMNS}) SELECT ${COLUMNS} FROM log_events`);
    // The partitions go with it.
    await q.query(`DROP TABLE log_events`);
    await q.query(`ALTER TABLE log_events_unpartitioned RENAME TO log_events`);
    await addKeysAndIndexes(q);
  }
}
