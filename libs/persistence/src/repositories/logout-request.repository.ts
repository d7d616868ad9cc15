import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Initiator, LogoutRequested } from '@ulo/contracts';
import type { RequestOrigin } from '../entities/logout-request.entity';
import { runSql, sqlRows } from './sql';

/** The two steps of a logout request, each done by its own consumer (SPEC §3). */
export type LogoutStep = 'sessions' | 'refresh_tokens';

/** A logout request as its steps see it, locked for their transaction. */
export interface LockedRequest {
  id: string;
  initiator: Initiator;
  connectionId: string | null;
  connectionName: string | null;
  userIds: string[];
  origin: RequestOrigin;
  /** What each step recorded; null while it has not run. */
  sessionsRevoked: number | null;
  refreshTokensRevoked: number | null;
}

/** A request that is not complete after a while, marked as announced again (SPEC §8). */
export interface StuckRequest {
  id: string;
  userIds: string[];
  payload: LogoutRequested;
  reannouncements: number;
}

const STEP_COLUMN: Readonly<Record<LogoutStep, string>> = { sessions: 'sessions_revoked', refresh_tokens: 'refresh_tokens_revoked' };

/**
 * `logout_requests`: what the gateway accepted, and how far its steps are. Each step locks the
 * request row, so the step that finishes second sees the first one's count and completes the
 * request exactly once.
 */
@Injectable()
export class LogoutRequestRepository {
  /** Records an accepted request, in the transaction that writes its event. */
  async insert(tx: EntityManager, request: LogoutRequested, origin: RequestOrigin): Promise<void> {
    await runSql(
      tx,
      `INSERT INTO logout_requests (id, initiator, connection_id, connection_name, user_ids, payload, origin)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        request.requestId,
        request.initiator,
        request.connection?.id ?? null,
        request.connection?.name ?? null,
        request.userIds,
        JSON.stringify(request),
        JSON.stringify(origin),
      ],
    );
  }

  /** Locks the request for this transaction; null when it does not exist. */
  async lock(tx: EntityManager, requestId: string): Promise<LockedRequest | null> {
    const [row] = await sqlRows<{
      id: string;
      initiator: Initiator;
      connection_id: string | null;
      connection_name: string | null;
      user_ids: string[];
      origin: RequestOrigin;
      sessions_revoked: number | null;
      refresh_tokens_revoked: number | null;
    }>(
      tx,
      `SELECT id, initiator, connection_id, connection_name, user_ids, origin, sessions_revoked, refresh_tokens_revoked
       FROM logout_requests WHERE id = $1 FOR UPDATE`,
      [requestId],
    );
    if (!row) return null;
    return {
      id: row.id,
      initiator: row.initiator,
      connectionId: row.connection_id,
      connectionName: row.connection_name,
      userIds: row.user_ids,
      origin: row.origin,
      sessionsRevoked: row.sessions_revoked,
      refreshTokensRevoked: row.refresh_tokens_revoked,
    };
  }

  /**
   * Records a step's count (the caller holds the lock and saw the step not done yet), and the
   * completion when `completes` (the other step is recorded already).
   */
  async recordStep(tx: EntityManager, requestId: string, step: LogoutStep, count: number, completes: boolean): Promise<void> {
    await runSql(
      tx,
      `UPDATE logout_requests SET ${STEP_COLUMN[step]} = $2, completed_at = CASE WHEN $3::boolean THEN now() END WHERE id = $1`,
      [requestId, count, completes],
    );
  }

  /**
   * Marks up to `limit` requests that are still incomplete `afterSeconds` after they were accepted
   * (and after their last re-announcement) as announced again, and returns them. Rows another
   * instance is marking are skipped, so each is re-announced once per period.
   */
  async markStuckForReannouncement(tx: EntityManager, afterSeconds: number, limit: number): Promise<StuckRequest[]> {
    const rows = await sqlRows<{ id: string; user_ids: string[]; payload: LogoutRequested; reannouncements: number }>(
      tx,
      `UPDATE logout_requests r SET announced_at = now(), reannouncements = r.reannouncements + 1
       FROM (
         SELECT id FROM logout_requests
         WHERE completed_at IS NULL AND created_at < now() - make_interval(secs => $1)
           AND (announced_at IS NULL OR announced_at < now() - make_interval(secs => $1))
         ORDER BY created_at LIMIT $2
         FOR UPDATE SKIP LOCKED
       ) stuck
       WHERE r.id = stuck.id
       RETURNING r.id, r.user_ids, r.payload, r.reannouncements`,
      [afterSeconds, limit],
    );
    return rows.map((r) => ({ id: r.id, userIds: r.user_ids, payload: r.payload, reannouncements: r.reannouncements }));
  }
}
