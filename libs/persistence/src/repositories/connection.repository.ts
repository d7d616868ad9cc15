import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ConnectionEntity, type StoredSsfOptions } from '../entities/connection.entity';
import { runSql, sqlRows } from './sql';

/**
 * What the re-seal command reads and writes of connections besides their Management API fields
 * (those go through the entity): the sealed SSF credentials in their options (SPEC §9).
 */
@Injectable()
export class ConnectionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Every connection's `options.ssf` as stored (sealed values included), for those that have one, in id order. */
  async ssfOptions(): Promise<{ id: string; ssf: StoredSsfOptions }[]> {
    return sqlRows(
      this.dataSource.manager,
      `SELECT id, options->'ssf' AS ssf FROM connections WHERE jsonb_typeof(options->'ssf') = 'object' ORDER BY id`,
    );
  }

  /** Replaces a connection's `options.ssf` if it is still `expected`; false when it changed meanwhile. */
  async replaceSsfOptions(tx: EntityManager, id: string, ssf: StoredSsfOptions, expected: StoredSsfOptions): Promise<boolean> {
    const { affected } = await runSql(
      tx,
      `UPDATE connections SET options = jsonb_set(options, '{ssf}', $2::jsonb) WHERE id = $1 AND options->'ssf' = $3::jsonb`,
      [id, JSON.stringify(ssf), JSON.stringify(expected)],
    );
    return affected === 1;
  }

  /**
   * Records (or, with null, forgets) the SSF stream of a connection's `options.ssf`: its id, and
   * its poll endpoint under poll delivery; false when the connection has no `ssf`.
   */
  async setSsfStream(id: string, stream: { stream_id: string; poll_endpoint?: string } | null): Promise<boolean> {
    const { affected } = await runSql(
      this.dataSource.manager,
      `UPDATE connections SET options = jsonb_set(options, '{ssf}', ((options->'ssf') - 'stream_id' - 'poll_endpoint') || $2::jsonb)
       WHERE id = $1 AND jsonb_typeof(options->'ssf') = 'object'`,
      [id, JSON.stringify(stream ?? {})],
    );
    return affected > 0;
  }

  /** SPEC §9, RFC 8936: the connections whose SSF events this service polls for (a stream with a poll endpoint). */
  async polling(): Promise<ConnectionEntity[]> {
    return this.dataSource
      .getRepository(ConnectionEntity)
      .createQueryBuilder('c')
      .where(`c.options->'ssf'->>'delivery' = 'poll' AND c.options->'ssf'->>'poll_endpoint' IS NOT NULL`)
      .orderBy('c.id')
      .getMany();
  }
}
