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
  /** The request as its event carries it: what each step revokes (its scopes). */
  request: LogoutRequested;
}

/** An accepted logout as it is recorded. */
export interface AcceptedRequest {
  request: LogoutRequested;
  origin: RequestOrigin;
  /** The subject as the request named it (SPEC §6 `logout-requests`); absent for a Management API delete. */
  subject?: unknown;
}

/** A request that is not complete after a while, marked as announced again (SPEC §8). */
export interface StuckRequest {
  id: string;
  userIds: string[];
  payload: LogoutRequested;
  reannouncements: number;
}

const STEP_COLUMN: Readonly<Record<LogoutStep, string>> = { sessions: 'sessions_revoked', refresh_tokens: 'refresh_tokens_revoked' };
/** When each step recorded itself: the request's timeline (SPEC §6 `logout-requests`). */
const STEP_TIME_COLUMN: Readonly<Record<LogoutStep, string>> = { sessions: 'sessions_revoked_at', refresh_tokens: 'refresh_tokens_revoked_at' };

/**
 * `logout_requests`: what the gateway accepted, and how far its steps are. Each step locks the
 * request row, so the step that finishes second sees the first one's count and completes the
 * request exactly once.
 */
@Injectable()
export class LogoutRequestRepository {
  /**
   * Records accepted requests, in the transaction that writes their events: one statement, its
   * rows as one JSON array. `subject` is the subject as the request named it, if it named one.
   */
  async insert(tx: EntityManager, accepted: AcceptedRequest[]): Promise<void> {
    if (accepted.length === 0) return;
    await runSql(
      tx,
      `INSERT INTO logout_requests (id, initiator, connection_id, connection_name, user_ids, payload, origin, subject)
       SELECT r.id, r.initiator, r.connection_id, r.connection_name, ARRAY(SELECT jsonb_array_elements_text(r.payload->'userIds')),
              r.payload, r.origin, r.subject
       FROM jsonb_to_recordset($1::jsonb)
         AS r (id text, initiator text, connection_id text, connection_name text, payload jsonb, origin jsonb, subject jsonb)`,
      [
        JSON.stringify(
          accepted.map((a) => ({
            id: a.request.requestId,
            initiator: a.request.initiator,
            connection_id: a.request.connection?.id ?? null,
            connection_name: a.request.connection?.name ?? null,
            payload: a.request,
            origin: a.origin,
            subject: a.subject ?? null,
          })),
        ),
      ],
    );
  }

  /**
   * Locks the requests for this transaction, in id order (so that the two logout consumers, each
   * locking a batch, can never wait on each other in a cycle); those that do not exist are absent.
   */
  async lock(tx: EntityManager, requestIds: string[]): Promise<LockedRequest[]> {
    if (requestIds.length === 0) return [];
    const rows = await sqlRows<{
      id: string;
      initiator: Initiator;
      connection_id: string | null;
      connection_name: string | null;
      user_ids: string[];
      origin: RequestOrigin;
      sessions_revoked: number | null;
      refresh_tokens_revoked: number | null;
      payload: LogoutRequested;
    }>(
      tx,
      `SELECT id, initiator, connection_id, connection_name, user_ids, origin, sessions_revoked, refresh_tokens_revoked, payload
       FROM logout_requests WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
      [requestIds],
    );
    return rows.map((row) => ({
      id: row.id,
      initiator: row.initiator,
      connectionId: row.connection_id,
      connectionName: row.connection_name,
      userIds: row.user_ids,
      origin: row.origin,
      sessionsRevoked: row.sessions_revoked,
      refreshTokensRevoked: row.refresh_tokens_revoked,
      request: row.payload,
    }));
  }

  /**
   * Records a step's count for each request (the caller holds the locks and saw the step not done
   * yet), and the completion of those whose other step is recorded already: one statement.
   */
  async recordStep(tx: EntityManager, step: LogoutStep, outcomes: { requestId: string; count: number; completes: boolean }[]): Promise<void> {
    if (outcomes.length === 0) return;
    await runSql(
      tx,
      `UPDATE logout_requests r SET ${STEP_COLUMN[step]} = o.count, ${STEP_TIME_COLUMN[step]} = now(),
         completed_at = CASE WHEN o.completes THEN now() END
       FROM unnest($1::text[], $2::int[], $3::boolean[]) AS o (id, count, completes)
       WHERE r.id = o.id`,
      [outcomes.map((o) => o.requestId), outcomes.map((o) => o.count), outcomes.map((o) => o.completes)],
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

  /**
   * Retention: deletes up to `limit` logout requests complete before `completedBefore`, oldest
   * first, with their back-channel deliveries, except a request with a delivery still to make
   * (pending) or parked after `parkedAfter` (still replayable). Returns how many of each went.
   */
  async pruneCompleteBefore(
    manager: EntityManager,
    cutoffs: { completedBefore: Date; parkedAfter: Date },
    limit: number,
  ): Promise<{ requests: number; deliveries: number }> {
    const [row] = await sqlRows<{ requests: number; deliveries: number }>(
      manager,
      `WITH old AS (
         SELECT r.id FROM logout_requests r
         WHERE r.completed_at IS NOT NULL AND r.completed_at < $1
           AND NOT EXISTS (
             SELECT 1 FROM backchannel_deliveries d
             WHERE d.request_id = r.id AND (d.status = 'pending' OR (d.status = 'parked' AND d.updated_at >= $2)))
         ORDER BY r.completed_at LIMIT $3
         FOR UPDATE SKIP LOCKED),
       deliveries AS (DELETE FROM backchannel_deliveries d USING old WHERE d.request_id = old.id RETURNING 1),
       requests AS (DELETE FROM logout_requests r USING old WHERE r.id = old.id RETURNING 1)
       SELECT (SELECT count(*) FROM requests)::int AS requests, (SELECT count(*) FROM deliveries)::int AS deliveries`,
      [cutoffs.completedBefore, cutoffs.parkedAfter, limit],
    );
    return row;
  }
}
