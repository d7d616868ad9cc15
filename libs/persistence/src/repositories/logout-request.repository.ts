import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { LogEventInput } from '@ulo/contracts';
import { normalise } from './query-result';

export type LogoutStep = 'sessions' | 'refresh_tokens';

export interface LockedRequest {
  id: string;
  initiator: string;
  connection_id: string | null;
  connection_name: string | null;
  user_ids: string[];
  origin: { ip?: string; user_agent?: string; hostname?: string };
  sessions_revoked: number | null;
  refresh_tokens_revoked: number | null;
}

/**
 * Coordinates the two consumers of one logout request. Each step locks the request row, so the
 * step that finishes second sees the first one's count and writes the success log exactly once.
 */
@Injectable()
export class LogoutRequestRepository {
  /** Locks the request for this transaction; null when it does not exist. */
  async lock(manager: EntityManager, requestId: string): Promise<LockedRequest | null> {
    const rows: LockedRequest[] = await manager.query(
      `SELECT id, initiator, connection_id, connection_name, user_ids, origin, sessions_revoked, refresh_tokens_revoked
       FROM logout_requests WHERE id = $1 FOR UPDATE`,
      [requestId],
    );
    return rows[0] ?? null;
  }

  /**
   * Marks up to `limit` requests that are still incomplete `afterSeconds` after they were accepted
   * (and after their last re-announcement) as announced again, and returns their events. Rows
   * another instance is marking are skipped, so each is re-announced once per period.
   */
  async markStuckForReannouncement(
    manager: EntityManager,
    afterSeconds: number,
    limit: number,
  ): Promise<{ id: string; user_ids: string[]; payload: Record<string, unknown>; reannouncements: number }[]> {
    const result = await manager.query(
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
    return normalise(result);
  }

  isDone(request: LockedRequest, step: LogoutStep): boolean {
    return (step === 'sessions' ? request.sessions_revoked : request.refresh_tokens_revoked) !== null;
  }

  /**
   * Records the step (the caller checked `isDone` under the same lock). Returns the
   * `universal_logout_succeeded` event to write when this step completed an `idp-logout` request.
   */
  async recordStep(manager: EntityManager, request: LockedRequest, step: LogoutStep, count: number): Promise<LogEventInput | undefined> {
    const other = step === 'sessions' ? request.refresh_tokens_revoked : request.sessions_revoked;
    const column = step === 'sessions' ? 'sessions_revoked' : 'refresh_tokens_revoked';
    await manager.query(
      `UPDATE logout_requests SET ${column} = $2, completed_at = CASE WHEN $3::boolean THEN now() END WHERE id = $1`,
      [request.id, count, other !== null],
    );
    if (other === null || request.initiator !== 'idp-logout') return undefined;
    const sessions = step === 'sessions' ? count : other;
    const refreshTokens = step === 'refresh_tokens' ? count : other;
    return {
      type: 'universal_logout_succeeded',
      description: 'Universal Logout succeeded',
      connection: request.connection_name,
      connection_id: request.connection_id,
      user_id: request.user_ids[0],
      ip: request.origin.ip ?? null,
      user_agent: request.origin.user_agent ?? null,
      hostname: request.origin.hostname ?? null,
      details: {
        request_id: request.id,
        user_ids: request.user_ids,
        sessions_revoked: sessions,
        refresh_tokens_revoked: refreshTokens,
      },
    };
  }
}
