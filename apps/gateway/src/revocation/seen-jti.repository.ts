import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { runSql } from '@ulo/persistence';

/** `seen_jtis` (SPEC §2.5): the jtis used up, shared by every gateway instance. */
@Injectable()
export class SeenJtiRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Uses up each jti for its connection until its expiry (epoch seconds), in one statement; returns
   * for each whether it was fresh (false: used already). A marker whose token has expired (not yet
   * swept) no longer counts: the jti may be used again. A (connection, jti) given twice is fresh
   * once, for its first occurrence.
   */
  async useUp(tx: EntityManager, jtis: { connectionId: string; jti: string; expiresAt: number }[]): Promise<boolean[]> {
    if (jtis.length === 0) return [];
    const key = (connectionId: string, jti: string) => `${connectionId}\u0000${jti}`;
    const first = new Map<string, number>();
    jtis.forEach((j, i) => {
      if (!first.has(key(j.connectionId, j.jti))) first.set(key(j.connectionId, j.jti), i);
    });
    const unique = [...first.values()].map((i) => jtis[i]);
    const { rows } = await runSql<{ connection_id: string; jti: string }>(
      tx,
      `INSERT INTO seen_jtis (connection_id, jti, expires_at)
       SELECT connection_id, jti, to_timestamp(expires_at) FROM unnest($1::text[], $2::text[], $3::float8[]) AS j (connection_id, jti, expires_at)
       ORDER BY 1, 2
       ON CONFLICT (connection_id, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE seen_jtis.expires_at < now()
       RETURNING connection_id, jti`,
      [unique.map((j) => j.connectionId), unique.map((j) => j.jti), unique.map((j) => j.expiresAt)],
    );
    const fresh = new Set(rows.map((r) => key(r.connection_id, r.jti)));
    return jtis.map((j, i) => first.get(key(j.connectionId, j.jti)) === i && fresh.has(key(j.connectionId, j.jti)));
  }

  /**
   * Forgets up to `limit` jtis whose tokens can no longer be valid, oldest first (through the
   * expiry index): a sweep deletes in bounded chunks, never the whole expired backlog at once.
   * Returns how many.
   */
  async forgetExpired(limit: number): Promise<number> {
    const { affected } = await runSql(
      this.dataSource.manager,
      `DELETE FROM seen_jtis s USING (
         SELECT connection_id, jti FROM seen_jtis WHERE expires_at < now() ORDER BY expires_at LIMIT $1
       ) old WHERE s.connection_id = old.connection_id AND s.jti = old.jti`,
      [limit],
    );
    return affected;
  }
}
