import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { HttpLogStreamSink } from '../entities/log-stream.entity';
import { runSql, sqlRows } from './sql';

/**
 * What the gateway and the re-seal command read and write of log streams besides their
 * Management API fields (those go through the entity); the log-streamer's delivery state has a
 * repository of its own.
 */
@Injectable()
export class LogStreamRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Events queued and not delivered yet, per stream (streams with none are absent). */
  async lagOf(streamIds: string[]): Promise<Map<string, number>> {
    if (streamIds.length === 0) return new Map();
    const rows = await sqlRows<{ stream_id: string; lag: number }>(
      this.dataSource.manager,
      `SELECT stream_id, count(*)::int AS lag FROM log_stream_queue WHERE stream_id = ANY ($1::text[]) GROUP BY stream_id`,
      [streamIds],
    );
    return new Map(rows.map((r) => [r.stream_id, r.lag]));
  }

  /**
   * Deletes the stream and then its queue, in one transaction; false if there was no such stream.
   * Two statements: the first waits for a fan-out that is queueing for the stream (it holds the
   * stream's row in key-share mode) to commit, and the second then sees and deletes what it queued.
   */
  async remove(id: string): Promise<boolean> {
    return this.dataSource.transaction(async (tx) => {
      const { affected } = await runSql(tx, `DELETE FROM log_streams WHERE id = $1`, [id]);
      if (affected === 0) return false;
      await runSql(tx, `DELETE FROM log_stream_queue WHERE stream_id = $1`, [id]);
      return true;
    });
  }

  /** Every http stream's sink as stored (sealed values included), in id order. */
  async httpSinks(): Promise<{ id: string; sink: HttpLogStreamSink }[]> {
    return sqlRows(this.dataSource.manager, `SELECT id, sink FROM log_streams WHERE type = 'http' ORDER BY id`);
  }

  /** Replaces a stream's sink if it is still `expected`; false when it changed meanwhile. */
  async replaceSink(tx: EntityManager, id: string, sink: HttpLogStreamSink, expected: HttpLogStreamSink): Promise<boolean> {
    const { affected } = await runSql(tx, `UPDATE log_streams SET sink = $2::jsonb WHERE id = $1 AND sink = $3::jsonb`, [
      id,
      JSON.stringify(sink),
      JSON.stringify(expected),
    ]);
    return affected === 1;
  }
}
