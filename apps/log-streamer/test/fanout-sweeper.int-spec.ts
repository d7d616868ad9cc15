import { DataSource } from 'typeorm';
import { encodeTime, ulid } from 'ulid';
import { testConfig } from '@ulo/testing';
import { FanoutSweeper } from '../src/store-log-events/fanout.sweeper';
import { RunningLogStreamer, startLogStreamer } from './log-streamer.harness';

/** log_stream_fanouts keeps a marker per event only for LOG_STREAM_FANOUT_RETENTION_HOURS. */
describe('fan-out markers are forgotten after their retention', () => {
  const prefix = `${testConfig().kafka.topicPrefix}fanouts${Date.now().toString(36)}.`;
  let streamer: RunningLogStreamer;
  const hour = 3_600_000;
  const now = Date.parse('2026-11-25T12:00:00Z');

  beforeAll(async () => {
    streamer = await startLogStreamer({ KAFKA_TOPIC_PREFIX: prefix, LOG_STREAM_FANOUT_RETENTION_HOURS: '24' });
  });
  afterAll(async () => streamer.close());

  const query = (sql: string, params: unknown[] = []) => streamer.app.get(DataSource).query(sql, params);

  it('forgets, in batches, the markers of events minted before the cutoff and keeps the others', async () => {
    // 12,000 markers 25 hours old (more than two batches), a few just either side of the cutoff.
    const oldPrefix = encodeTime(now - 25 * hour, 10);
    await query(
      `INSERT INTO log_stream_fanouts (log_id) SELECT $1 || lpad(to_hex(i), 16, '0') FROM generate_series(1, 12000) AS i`,
      [oldPrefix],
    );
    const justBefore = ulid(now - 24 * hour - 1);
    const atCutoff = ulid(now - 24 * hour);
    const recent = ulid(now - hour);
    await query(`INSERT INTO log_stream_fanouts (log_id) VALUES ($1), ($2), ($3)`, [justBefore, atCutoff, recent]);

    const forgotten = await streamer.app.get(FanoutSweeper).sweep(now);

    expect(forgotten).toBe(12_001);
    const left: { log_id: string }[] = await query(
      `SELECT log_id FROM log_stream_fanouts WHERE log_id LIKE $1 OR log_id = ANY ($2) ORDER BY log_id`,
      [`${oldPrefix}%`, [justBefore, atCutoff, recent]],
    );
    expect(left.map((r) => r.log_id)).toEqual([atCutoff, recent]);
    expect(await streamer.app.get(FanoutSweeper).sweep(now)).toBe(0);
  });
});
