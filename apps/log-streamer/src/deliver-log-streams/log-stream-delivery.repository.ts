import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { serializedLogStreamEnvelope, type LogStreamStatus, type LogStreamType, type SerializedLogStreamEnvelope } from '@ulo/contracts';
import { runSql, sqlRows, type LogStreamSink } from '@ulo/persistence';
import type { StreamLag } from '../metrics/log-streamer.metrics';

export interface DrivenStream {
  id: string;
  type: LogStreamType;
  status: LogStreamStatus;
  sink: LogStreamSink;
  consecutiveFailures: number;
  /** Until the next attempt is allowed (retry backoff); 0 when due. */
  waitMs: number;
}

export interface QueuedBatch {
  /** Every queued log_id of the batch, in order, including any whose event is gone from the store. */
  logIds: string[];
  /** The envelopes of the queued events still in the store, in order, built from their stored JSON text. */
  envelopes: SerializedLogStreamEnvelope[];
  /** Until the oldest queued event of the batch has waited the batch window; <= 0 when due. */
  dueInMs: number;
  /**
   * When the batch is due: the stream's status once its lease was extended for the delivery, or
   * null when the lease was lost. Undefined when the batch is not due (nothing was extended).
   */
  leasedStatus?: LogStreamStatus | null;
}

/** How much of its queue a stream takes per step (see {@link LogStreamDeliveryRepository.nextBatch}). */
export interface BatchTake {
  /** Events that make a full batch: a queue holding them is due at once. */
  batchSize: number;
  /** The most events taken (several batches). */
  limit: number;
  /** The longest the oldest queued event waits for its batch to fill. */
  windowMs: number;
  /** Queued events left out: those of the delivery being recorded at the same time. */
  inFlight: string[];
}

export interface DeliveredBatch {
  /** The envelopes the sink accepted, in order. */
  delivered: string[];
  /** Every log_id that leaves the queue: the delivered ones and those whose event is gone. */
  done: string[];
}

export interface FailedDelivery {
  error: string;
  delivered: string[];
  retryInMs: number;
  maxFailures: number;
}

const ms = (param: string) => `(${param} * interval '1 millisecond')`;

/**
 * The delivery state of log streams. Each stream is driven by one log-streamer instance at a time:
 * the one holding its lease (`lease_owner`, `lease_until`); every write here is conditional on
 * still holding it.
 */
@Injectable()
export class LogStreamDeliveryRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Leases active streams nobody drives (or whose driver stopped renewing). */
  async claim(owner: string, leaseMs: number, limit: number, alreadyDriven: string[]): Promise<string[]> {
    const rows = await sqlRows<{ id: string }>(
      this.dataSource.manager,
      `WITH free AS (
         SELECT id FROM log_streams
         WHERE status = 'active' AND NOT (id = ANY ($4::text[]))
           AND (lease_owner IS NULL OR lease_until < now() OR lease_owner = $1)
         ORDER BY next_attempt_at
         LIMIT $3
         FOR UPDATE SKIP LOCKED),
       claimed AS (
         UPDATE log_streams s SET lease_owner = $1, lease_until = now() + ${ms('$2')}
         FROM free WHERE s.id = free.id
         RETURNING s.id)
       SELECT id FROM claimed`,
      [owner, leaseMs, limit, alreadyDriven],
    );
    return rows.map((r) => r.id);
  }

  /** The stream, if this owner still holds its lease; `renew` extends the lease as well. */
  async load(id: string, owner: string, renewForMs: number | null): Promise<DrivenStream | null> {
    const columns = `id, type, status, sink, consecutive_failures,
      GREATEST(0, CEIL(EXTRACT(EPOCH FROM (next_attempt_at - now())) * 1000))::int AS wait_ms`;
    type Row = { id: string; type: LogStreamType; status: LogStreamStatus; sink: LogStreamSink; consecutive_failures: number; wait_ms: number };
    const rows =
      renewForMs === null
        ? await sqlRows<Row>(this.dataSource.manager, `SELECT ${columns} FROM log_streams WHERE id = $1 AND lease_owner = $2`, [id, owner])
        : await sqlRows<Row>(
            this.dataSource.manager,
            `WITH renewed AS (
               UPDATE log_streams SET lease_until = now() + ${ms('$3')} WHERE id = $1 AND lease_owner = $2 RETURNING *)
             SELECT ${columns} FROM renewed`,
            [id, owner, renewForMs],
          );
    const r = rows[0];
    if (!r) return null;
    return { id: r.id, type: r.type, status: r.status, sink: r.sink, consecutiveFailures: r.consecutive_failures, waitMs: r.wait_ms };
  }

  /**
   * The next events the stream has to deliver (at most `limit`), oldest log_id first. The events
   * themselves are read only once they are due (the queue holds `batchSize`, or its oldest event
   * has waited `windowMs`): a stream polling a filling batch does not read and parse it again on
   * every poll. The head of the queue comes through the primary key in order, however stale the
   * statistics (log_stream_queue_head). Due events also extend this owner's lease by `leaseForMs`,
   * in the same statement, so that the lease outlasts the delivery. With `leaseForMs` null (a read ahead, while the last
   * delivery is being recorded: that record extends the lease) the stream's row is only read, so
   * the read does not wait for the record's lock on it.
   */
  async nextBatch(streamId: string, owner: string, take: BatchTake, leaseForMs: number | null): Promise<QueuedBatch> {
    const heldAndDue = `id = $1 AND lease_owner = $4 AND EXISTS (SELECT 1 FROM batch WHERE full_batch OR due_in_ms <= 0)`;
    const leased =
      leaseForMs === null
        ? `SELECT status FROM log_streams WHERE ${heldAndDue}`
        : `UPDATE log_streams SET lease_until = now() + ${ms('$7')} WHERE ${heldAndDue} RETURNING status`;
    const rows = await sqlRows<{ log_id: string; data: string | null; due_in_ms: number; leased: boolean; status: LogStreamStatus | null }>(
      this.dataSource.manager,
      `WITH queued AS (SELECT log_id, enqueued_at FROM log_stream_queue_head($1, $6::text[], $5)),
       batch AS (
         SELECT count(*) >= $2 AS full_batch,
                CEIL(EXTRACT(EPOCH FROM (min(enqueued_at) + ${ms('$3')} - now())) * 1000)::int AS due_in_ms
         FROM queued),
       leased AS (${leased})
       SELECT q.log_id, e.data::text AS data, b.due_in_ms, (b.full_batch OR b.due_in_ms <= 0) AS leased, (SELECT status FROM leased) AS status
       FROM queued q CROSS JOIN batch b
       -- One primary-key probe per queued event (LIMIT keeps the planner from a hash join that would
       -- read the whole store for a few hundred events when its statistics are stale).
       LEFT JOIN LATERAL (
         SELECT e.data FROM log_events e WHERE (b.full_batch OR b.due_in_ms <= 0) AND e.log_id = q.log_id LIMIT 1) e ON true
       ORDER BY q.log_id`,
      [streamId, take.batchSize, take.windowMs, owner, take.limit, take.inFlight, ...(leaseForMs === null ? [] : [leaseForMs])],
    );
    return {
      logIds: rows.map((r) => r.log_id),
      envelopes: rows.filter((r) => r.data !== null).map((r) => serializedLogStreamEnvelope(r.log_id, r.data as string)),
      dueInMs: rows.length ? rows[0].due_in_ms : 0,
      ...(rows.length && rows[0].leased ? { leasedStatus: rows[0].status } : {}),
    };
  }

  /**
   * `done` was delivered (or can never be): it leaves the queue, the stream is healthy. False if
   * the lease was lost meanwhile; the new owner delivers the batch again. One statement: the
   * queue rows go only if the stream's row was updated (this owner still holds the lease). The
   * lease is extended by `leaseMs`: past the next delivery, when one is under way.
   */
  async recordSuccess(streamId: string, owner: string, outcome: DeliveredBatch, leaseMs: number): Promise<boolean> {
    const { done, delivered } = outcome;
    const rows = await sqlRows(
      this.dataSource.manager,
      `WITH delivered AS (
         UPDATE log_streams SET
           last_delivered_log_id = COALESCE($3, last_delivered_log_id),
           last_success_at = CASE WHEN $3::text IS NULL THEN last_success_at ELSE now() END,
           delivered_count = delivered_count + $4,
           consecutive_failures = 0, next_attempt_at = now(), lease_until = now() + ${ms('$5')}
         WHERE id = $1 AND lease_owner = $2
         RETURNING id),
       dequeued AS (
         DELETE FROM log_stream_queue WHERE stream_id = $1 AND log_id = ANY ($6::text[]) AND EXISTS (SELECT 1 FROM delivered)
         RETURNING 1)
       SELECT id FROM delivered`,
      [streamId, owner, delivered[delivered.length - 1] ?? null, delivered.length, leaseMs, done],
    );
    return rows.length > 0;
  }

  /**
   * The delivery failed (after `delivered` reached the sink): schedules the retry, keeps the last
   * 10 errors, and suspends the stream once `maxFailures` deliveries in a row have failed.
   * Returns the stream's status afterwards, or null if the lease was lost.
   */
  async recordFailure(streamId: string, owner: string, failure: FailedDelivery): Promise<LogStreamStatus | null> {
    return this.dataSource.transaction(async (tx) => {
      const delivered = failure.delivered;
      const rows = await sqlRows<{ status: LogStreamStatus }>(
        tx,
        `WITH failed AS (
           UPDATE log_streams SET
             consecutive_failures = consecutive_failures + 1,
             last_errors = (
               SELECT COALESCE(jsonb_agg(t.e ORDER BY t.i), '[]'::jsonb)
               FROM (SELECT e, i FROM jsonb_array_elements(
                       jsonb_build_array(jsonb_build_object('at', now(), 'error', $3::text)) || last_errors)
                       WITH ORDINALITY AS a (e, i)
                     ORDER BY i LIMIT 10) t),
             next_attempt_at = now() + ${ms('$4')},
             status = CASE WHEN status = 'active' AND consecutive_failures + 1 >= $5 THEN 'suspended' ELSE status END,
             suspended_at = CASE WHEN status = 'active' AND consecutive_failures + 1 >= $5 THEN now() ELSE suspended_at END,
             lease_owner = CASE WHEN status = 'active' AND consecutive_failures + 1 >= $5 THEN NULL ELSE lease_owner END,
             lease_until = CASE WHEN status = 'active' AND consecutive_failures + 1 >= $5 THEN NULL ELSE lease_until END,
             last_delivered_log_id = COALESCE($6, last_delivered_log_id),
             last_success_at = CASE WHEN $7 > 0 THEN now() ELSE last_success_at END,
             delivered_count = delivered_count + $7
           WHERE id = $1 AND lease_owner = $2
           RETURNING status)
         SELECT status FROM failed`,
        [streamId, owner, failure.error, failure.retryInMs, failure.maxFailures, delivered[delivered.length - 1] ?? null, delivered.length],
      );
      if (rows.length === 0) return null;
      if (delivered.length > 0) {
        await runSql(tx, `DELETE FROM log_stream_queue WHERE stream_id = $1 AND log_id = ANY ($2::text[])`, [streamId, delivered]);
      }
      return rows[0].status;
    });
  }

  async release(streamId: string, owner: string): Promise<void> {
    await runSql(
      this.dataSource.manager,
      `UPDATE log_streams SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2`,
      [streamId, owner],
    );
  }

  /** On shutdown: another instance may take the streams over at once. */
  async releaseAll(owner: string): Promise<void> {
    await runSql(this.dataSource.manager, `UPDATE log_streams SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1`, [owner]);
  }

  async lag(): Promise<StreamLag> {
    const rows = await sqlRows<{ id: string; status: string; lag: number }>(
      this.dataSource.manager,
      `SELECT s.id, s.status, (SELECT count(*) FROM log_stream_queue q WHERE q.stream_id = s.id)::int AS lag
       FROM log_streams s`,
    );
    return rows.map((r) => ({ streamId: r.id, status: r.status, lag: r.lag }));
  }
}
