import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { runSql } from '@ulo/persistence';

/** `seen_jtis` (SPEC §2.5): the jtis used up, shared by every gateway instance. */
@Injectable()
export class SeenJtiRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Uses up `jti` for the connection until `expiresAt` (epoch seconds); false when it is used
   * already. A marker whose token has expired (not yet swept) no longer counts: the jti may be
   * used again. In the caller's transaction, or alone.
   */
  async useUp(connectionId: string, jti: string, expiresAt: number, tx: EntityManager = this.dataSource.manager): Promise<boolean> {
    const { affected } = await runSql(
      tx,
      `INSERT INTO seen_jtis (connection_id, jti, expires_at) VALUES ($1, $2, to_timestamp($3))
       ON CONFLICT (connection_id, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE seen_jtis.expires_at < now()`,
      [connectionId, jti, expiresAt],
    );
    return affected === 1;
  }

  /** Forgets the jtis whose tokens can no longer be valid; how many. */
  async forgetExpired(): Promise<number> {
    return (await runSql(this.dataSource.manager, `DELETE FROM seen_jtis WHERE expires_at < now()`)).affected;
  }
}
