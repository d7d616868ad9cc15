import { createHash } from 'node:crypto';
import { DataSource, QueryRunner } from 'typeorm';
import { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { ulid } from 'ulid';
import { TEST_DATABASE_ENV, dropDatabase, uniqueSuffix } from '@ulo/testing';
import { LogEventRepository, LogPartitionsRepository, dataSourceOptions, ensureDatabase, migrations } from '@ulo/persistence';

const DAY_MS = 86_400_000;

/** The days the log held before the migration: 2025-01-01 … 2025-02-09. */
const DAYS = Array.from({ length: 40 }, (_, i) => new Date(Date.UTC(2025, 0, 1 + i)).toISOString().slice(0, 10));
/** Each day's first millisecond, its noon and its last millisecond. */
const TIMES = ['T00:00:00.000Z', 'T12:00:00.000Z', 'T23:59:59.999Z'];
/** log_ids some tests write; no day partition holds them. */
const NOT_ULIDS = ['00-not-a-ulid', 'manual-1'];
const DEFAULT = 'log_events_default';

const partitionOf = (day: string): string => `log_events_${day.replace(/-/g, '')}`;
const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const sorted = (ids: string[]): string[] => [...ids].sort();
const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

/** An event the test wrote: `at` its ISO time, `day` its UTC day (null for the ids that are not ULIDs). */
interface Written {
  logId: string;
  at: string;
  day: string | null;
}

/**
 * `log_events` partitioned by day: the migration on a database holding a log written before it,
 * then LogPartitionsRepository creating days ahead and dropping old ones, and paging through what
 * is left. The tests run in order on one database of their own.
 */
describe('log_events partitioned by day', () => {
  const url = new URL(process.env[TEST_DATABASE_ENV]!);
  url.pathname = `/ulo_log_partitions_${uniqueSuffix()}`;
  const target = migrations.findIndex((m) => m.name === 'LogEventsPartitionedByDay1764950400000');
  const written: Written[] = [];
  /** The days that have a partition, and those whose partition (and rows) were dropped. */
  const live = new Set<string>(DAYS);
  const dropped = new Set<string>();
  let ds: DataSource;
  let partitions: LogPartitionsRepository;
  let before: { n: number; rows: string };

  const open = (upTo: number) => {
    const options = dataSourceOptions(url.toString(), 4) as PostgresConnectionOptions;
    return new DataSource({ ...options, migrations: migrations.slice(0, upTo) }).initialize();
  };

  const write = async (events: Written[]) => {
    await ds.query(
      `INSERT INTO log_events (log_id, date, type, user_id, connection, client_id, data)
       SELECT id, at, type, user_id, 'acme', 'app-1', jsonb_build_object('log_id', id, 'date', at, 'type', type, 'user_id', user_id)
       FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[]) AS e (id, at, type, user_id)`,
      [
        events.map((e) => e.logId),
        events.map((e) => e.at),
        events.map((_, i) => ['sapi', 'fapi', 'srrt'][i % 3]),
        events.map((_, i) => (i % 4 === 0 ? null : `auth0|user${i % 5}`)),
      ],
    );
    written.push(...events);
  };
  const eventAt = (at: string): Written => ({ logId: ulid(Date.parse(at)), at, day: at.slice(0, 10) });
  const idAt = (at: string): string => written.find((w) => w.at === at)!.logId;
  const survivors = () => written.filter((w) => w.day === null || !dropped.has(w.day));

  /** Every row and the partition holding it, in log_id order. */
  const placement = (): Promise<{ log_id: string; partition: string }[]> =>
    ds.query(`SELECT log_id, tableoid::regclass::text AS partition FROM log_events ORDER BY log_id`);
  /** Each row in the partition of its day, or in the default one when its day has none. */
  const expectedPlacement = () =>
    survivors()
      .sort((a, b) => (a.logId < b.logId ? -1 : 1))
      .map((w) => ({ log_id: w.logId, partition: w.day !== null && live.has(w.day) ? partitionOf(w.day) : DEFAULT }));
  /** The count, a checksum of every row (all its columns) and one of the log_ids. */
  const fingerprint = async (): Promise<{ n: number; rows: string; ids: string }> =>
    (
      await ds.query(
        `SELECT count(*)::int AS n, md5(string_agg(e::text, '|' ORDER BY e.log_id)) AS rows,
                md5(string_agg(e.log_id, ',' ORDER BY e.log_id)) AS ids
         FROM log_events e`,
      )
    )[0];
  const catalogPartitions = async (): Promise<string[]> =>
    (
      await ds.query<{ name: string }[]>(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'log_events'::regclass ORDER BY 1`,
      )
    ).map((r) => r.name);
  const relkind = async (): Promise<string> =>
    (await ds.query(`SELECT relkind FROM pg_class WHERE oid = 'log_events'::regclass`))[0].relkind;
  /** A transaction of another connection that holds `sql`'s locks until released. */
  const holdLocksOf = async (sql: string): Promise<QueryRunner> => {
    const holder = ds.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    await holder.query(sql);
    return holder;
  };
  const release = async (holder: QueryRunner) => {
    await holder.rollbackTransaction();
    await holder.release();
  };

  beforeAll(async () => {
    await ensureDatabase(url.toString());
    ds = await open(target);
    await ds.runMigrations({ transaction: 'each' });
    await write([
      ...DAYS.flatMap((day) => TIMES.map((time) => eventAt(`${day}${time}`))),
      ...NOT_ULIDS.map((logId) => ({ logId, at: '2025-01-15T08:00:00.000Z', day: null })),
    ]);
    before = await fingerprint();
    await ds.destroy();
    ds = await open(migrations.length);
    expect((await ds.runMigrations({ transaction: 'each' })).map((m) => m.name)).toEqual(migrations.slice(target).map((m) => new m().name));
    partitions = new LogPartitionsRepository(ds);
  });

  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await dropDatabase(url.toString());
  });

  describe('the migration, on a database holding 40 days of log', () => {
    it('keeps every row, each in the partition of its day, the ids that are not ULIDs in the default one', async () => {
      expect(await relkind()).toBe('p');
      expect(await fingerprint()).toEqual({ ...before, ids: md5(sorted(written.map((w) => w.logId)).join(',')) });
      expect(before.n).toBe(122);
      expect(await placement()).toEqual(expectedPlacement());
    });

    it('creates a partition for every day the rows span, today and the next 3 days, and the default one', async () => {
      const today = Date.now() - (Date.now() % DAY_MS);
      const ahead = [0, 1, 2, 3].map((i) => partitionOf(utcDay(today + i * DAY_MS)));
      expect(await catalogPartitions()).toEqual([...DAYS.map(partitionOf), ...ahead, DEFAULT]);
      const listed = await partitions.partitions();
      expect(listed.slice(0, 3)).toEqual([
        { name: 'log_events_20250101', from: '01JGFJJZ00', to: '01JGJ4ZP00', isDefault: false },
        { name: 'log_events_20250102', from: '01JGJ4ZP00', to: '01JGMQCD00', isDefault: false },
        { name: 'log_events_20250103', from: '01JGMQCD00', to: '01JGQ9S400', isDefault: false },
      ]);
      expect(listed[listed.length - 1]).toEqual({ name: DEFAULT, from: null, to: null, isDefault: true });
    });

    it('can be undone, keeping every row in a plain table, and run again', async () => {
      // The later migrations first, then this one.
      for (let undo = migrations.length - target; undo > 0; undo--) await ds.undoLastMigration({ transaction: 'each' });
      expect(await relkind()).toBe('r');
      expect(await catalogPartitions()).toEqual([]);
      expect((await fingerprint()).rows).toBe(before.rows);

      await ds.runMigrations({ transaction: 'each' });
      expect(await relkind()).toBe('p');
      expect((await fingerprint()).rows).toBe(before.rows);
      expect(await placement()).toEqual(expectedPlacement());
    });
  });

  describe('ensureAhead', () => {
    it("creates the days from now's to daysAhead later, moving into each the rows of its day the default partition held", async () => {
      await write(
        ['2025-03-01T00:00:00.000Z', '2025-03-01T23:59:59.999Z', '2025-03-02T09:00:00.000Z', '2025-03-05T09:00:00.000Z'].map(eventAt),
      );
      expect((await placement()).filter((r) => r.partition === DEFAULT)).toHaveLength(NOT_ULIDS.length + 4);
      expect(await placement()).toEqual(expectedPlacement());

      expect(await partitions.ensureAhead(2, new Date('2025-03-01T10:00:00Z'))).toEqual([
        'log_events_20250301',
        'log_events_20250302',
        'log_events_20250303',
      ]);
      ['2025-03-01', '2025-03-02', '2025-03-03'].forEach((day) => live.add(day));
      // 2025-03-05 has no partition yet: its row stays in the default one.
      expect(await placement()).toEqual(expectedPlacement());
      expect((await fingerprint()).ids).toBe(md5(sorted(written.map((w) => w.logId)).join(',')));
    });

    it('gives the new partition the indexes of the table, and the primary key still spans every partition', async () => {
      const attached: { name: string }[] = await ds.query(
        `SELECT parent.relname AS name FROM pg_index x
         JOIN pg_inherits i ON i.inhrelid = x.indexrelid JOIN pg_class parent ON parent.oid = i.inhparent
         WHERE x.indrelid = 'log_events_20250301'::regclass ORDER BY 1`,
      );
      expect(attached.map((r) => r.name)).toEqual([
        'ix_log_events_client',
        'ix_log_events_connection',
        'ix_log_events_date',
        'ix_log_events_type',
        'ix_log_events_user',
        'log_events_pkey',
      ]);
      const again = idAt('2025-03-01T00:00:00.000Z');
      expect(
        await ds.query(
          `INSERT INTO log_events (log_id, date, type, data) VALUES ($1, now(), 'sapi', '{}')
           ON CONFLICT (log_id) DO NOTHING RETURNING log_id`,
          [again],
        ),
      ).toEqual([]);
    });

    it('is idempotent', async () => {
      expect(await partitions.ensureAhead(2, new Date('2025-03-01T10:00:00Z'))).toEqual([]);
      expect(await partitions.ensureAhead(1, new Date('2025-03-02T00:00:00Z'))).toEqual([]);
    });

    it('gives up for now, without failing, when the default partition is not to be locked in time', async () => {
      const holder = await holdLocksOf(`SELECT count(*) FROM log_events_default`);
      try {
        expect(await partitions.ensureAhead(0, new Date('2025-03-10T01:00:00Z'))).toEqual([]);
      } finally {
        await release(holder);
      }
      expect(await catalogPartitions()).not.toContain('log_events_20250310');
      expect(await partitions.ensureAhead(0, new Date('2025-03-10T01:00:00Z'))).toEqual(['log_events_20250310']);
      live.add('2025-03-10');
    });
  });

  describe('dropBefore', () => {
    const drop = (days: string[]) =>
      days.forEach((day) => {
        live.delete(day);
        dropped.add(day);
      });

    beforeAll(async () => {
      const insertStream = (id: string, status: string) =>
        ds.query(`INSERT INTO log_streams (id, name, type, status, sink) VALUES ($1, $1, 'http', $2, $3)`, [
          id,
          status,
          JSON.stringify({
            httpEndpoint: 'http://127.0.0.1:9/never-called',
            httpContentType: 'application/json',
            httpContentFormat: 'JSONARRAY',
            httpCustomHeaders: [],
          }),
        ]);
      await insertStream('st_paused', 'paused');
      await insertStream('st_active', 'active');
      await ds.query(`INSERT INTO log_stream_queue (stream_id, log_id) VALUES ('st_paused', $1), ('st_active', $2)`, [
        idAt('2025-01-05T12:00:00.000Z'),
        idAt('2025-01-20T12:00:00.000Z'),
      ]);
    });

    it('drops, oldest first, the days wholly before the cutoff, except one with an event queued for a paused stream', async () => {
      const result = await partitions.dropBefore(new Date('2025-01-10T12:00:00Z'));
      const gone = ['2025-01-01', '2025-01-02', '2025-01-03', '2025-01-04', '2025-01-06', '2025-01-07', '2025-01-08', '2025-01-09'];
      expect(result).toEqual({
        dropped: gone.map((day) => ({ name: partitionOf(day), rows: 3 })),
        kept: [{ name: 'log_events_20250105', reason: 'events queued for log stream st_paused' }],
      });
      drop(gone);
      const left = await catalogPartitions();
      expect(left).toEqual(expect.arrayContaining(['log_events_20250105', 'log_events_20250110', DEFAULT]));
      expect(left.filter((name) => gone.map(partitionOf).includes(name))).toEqual([]);
      expect(await placement()).toEqual(expectedPlacement());
    });

    it('pages in log_id order across the dropped days: from a cursor in one, the next surviving rows, no gaps or repeats', async () => {
      const cursor = idAt('2025-01-03T12:00:00.000Z');
      const expected = sorted(survivors().map((w) => w.logId)).filter((id) => id > cursor);
      expect(expected.slice(0, 3)).toEqual(['2025-01-05T00:00:00.000Z', '2025-01-05T12:00:00.000Z', '2025-01-05T23:59:59.999Z'].map(idAt));

      const page = async (after: string): Promise<string[]> =>
        (await ds.query<{ log_id: string }[]>(`SELECT log_id FROM log_events WHERE log_id > $1 ORDER BY log_id LIMIT 100`, [after])).map(
          (r) => r.log_id,
        );
      const first = await page(cursor);
      const second = await page(first[first.length - 1]);
      expect(first).toEqual(expected.slice(0, 100));
      expect([...first, ...second]).toEqual(expected);
      // GET /api/v2/logs reads the same way.
      const logs = new LogEventRepository(ds);
      expect((await logs.page({ after: cursor }, 100)).map((e) => e.log_id)).toEqual(expected.slice(0, 100));
    });

    it('drops the day once its queued event is delivered', async () => {
      await ds.query(`DELETE FROM log_stream_queue WHERE stream_id = 'st_paused'`);
      expect(await partitions.dropBefore(new Date('2025-01-10T12:00:00Z'))).toEqual({
        dropped: [{ name: 'log_events_20250105', rows: 3 }],
        kept: [],
      });
      drop(['2025-01-05']);
    });

    it('keeps a day whose lock is not to be had in a few attempts, for the next run', async () => {
      const holder = await holdLocksOf(`SELECT count(*) FROM log_events`);
      try {
        expect(await partitions.dropBefore(new Date('2025-01-11T00:00:00Z'))).toEqual({
          dropped: [],
          kept: [{ name: 'log_events_20250110', reason: 'lock timeout' }],
        });
      } finally {
        await release(holder);
      }
      expect(await catalogPartitions()).toContain('log_events_20250110');
      expect(await partitions.dropBefore(new Date('2025-01-11T00:00:00Z'))).toEqual({
        dropped: [{ name: 'log_events_20250110', rows: 3 }],
        kept: [],
      });
      drop(['2025-01-10']);
    });

    it('never drops the default partition', async () => {
      const today = Date.now() - (Date.now() % DAY_MS);
      const ahead = [0, 1, 2, 3].map((i) => ({ name: partitionOf(utcDay(today + i * DAY_MS)), rows: 0 }));
      const result = await partitions.dropBefore(new Date(today + 10 * DAY_MS));
      expect(result).toEqual({
        dropped: [
          ...DAYS.filter((day) => day >= '2025-01-11' && day !== '2025-01-20').map((day) => ({ name: partitionOf(day), rows: 3 })),
          { name: 'log_events_20250301', rows: 2 },
          { name: 'log_events_20250302', rows: 1 },
          { name: 'log_events_20250303', rows: 0 },
          { name: 'log_events_20250310', rows: 0 },
          ...ahead,
        ],
        kept: [{ name: 'log_events_20250120', reason: 'events queued for log stream st_active' }],
      });
      expect(await catalogPartitions()).toEqual(['log_events_20250120', DEFAULT]);
      expect((await placement()).filter((r) => r.partition === DEFAULT).map((r) => r.log_id)).toEqual(
        sorted([...NOT_ULIDS, idAt('2025-03-05T09:00:00.000Z')]),
      );
    });
  });
});
