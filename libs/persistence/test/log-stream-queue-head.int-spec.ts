import { Client } from 'pg';
import { TEST_DATABASE_ENV, dropDatabase, uniqueSuffix } from '@ulo/testing';
import { migrate } from '@ulo/persistence';

const QUEUED = 20_000;
const logId = (n: number) => `01J${String(n).padStart(23, '0')}`;

/**
 * log_stream_queue_head on a database whose planner has no statistics of the queue (new, never
 * analysed): the head of a stream comes through the primary key in order, the events left out
 * through a hashed subplan, never a scan and sort of the stream's whole queue.
 */
describe('log_stream_queue_head', () => {
  const url = new URL(process.env[TEST_DATABASE_ENV]!);
  url.pathname = `/ulo_queue_head_${uniqueSuffix()}`;
  let db: Client;

  beforeAll(async () => {
    await migrate(url.toString());
    db = new Client({ connectionString: url.toString() });
    await db.connect();
    await db.query(
      `INSERT INTO log_stream_queue (stream_id, log_id)
       SELECT s, '01J' || lpad(i::text, 23, '0') FROM generate_series(1, $1::int) i, (VALUES ('lst_a'), ('lst_b')) v (s)`,
      [QUEUED],
    );
  });

  afterAll(async () => {
    await db?.end();
    await dropDatabase(url.toString());
  });

  it('returns the oldest queued events of the stream in order, without those left out, at most the limit', async () => {
    const skip = [logId(1), logId(2), logId(4)];
    const { rows } = await db.query(`SELECT log_id FROM log_stream_queue_head($1, $2, $3)`, ['lst_a', skip, 4]);
    expect(rows.map((r) => r.log_id)).toEqual([logId(3), logId(5), logId(6), logId(7)]);
    const none = await db.query(`SELECT log_id FROM log_stream_queue_head($1, $2, $3)`, ['lst_missing', [], 10]);
    expect(none.rows).toEqual([]);
  });

  it('reads the primary key in order and leaves out 500 events through a hash, whatever the statistics', async () => {
    const stats = await db.query(`SELECT count(*)::int AS n FROM pg_stats WHERE tablename = 'log_stream_queue'`);
    expect(stats.rows[0].n).toBe(0);
    const plans: string[] = [];
    db.on('notice', (m) => plans.push(m.message ?? ''));
    await db.query(`LOAD 'auto_explain'`);
    await db.query(`SET auto_explain.log_min_duration = 0`);
    await db.query(`SET auto_explain.log_nested_statements = on`);
    await db.query(`SET auto_explain.log_level = notice`);
    const skip = Array.from({ length: 500 }, (_, i) => logId(i + 1));
    const { rows } = await db.query(`SELECT log_id FROM log_stream_queue_head($1, $2, 500)`, ['lst_a', skip]);
    await db.query(`SET auto_explain.log_min_duration = -1`);
    expect(rows).toHaveLength(500);
    expect(rows[0].log_id).toBe(logId(501));
    const body = plans.find((p) => p.includes('FROM log_stream_queue q'));
    expect(body).toBeDefined();
    expect(body).toContain('Index Scan using log_stream_queue_pkey');
    expect(body).toContain('hashed SubPlan');
    expect(body).not.toMatch(/Bitmap|Sort|Seq Scan/);
  });
});
