import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { runSql, sqlRows } from './sql';

/** A message for Kafka, written with the change it announces (SPEC §2 "a 204 is a promise"). */
export interface OutboxRow {
  /** The full topic name, prefix included. */
  topic: string;
  key: string | null;
  value: string;
}

export interface PendingOutboxRow extends OutboxRow {
  id: string;
}

/**
 * The transactional outbox, the only writer and reader of `outbox`: every app writes its events
 * here in the transaction of the change, and the relay publishes and deletes them.
 */
@Injectable()
export class OutboxRepository {
  /**
   * How many rows wait for the relay, counting at most `cap` (a walk of the primary key that stays
   * cheap however far the relay is behind): the `ulo_outbox_backlog` gauge.
   */
  async countWaiting(manager: EntityManager, cap: number): Promise<number> {
    const [row] = await sqlRows<{ n: number }>(manager, `SELECT count(*)::int AS n FROM (SELECT 1 FROM outbox LIMIT $1) waiting`, [cap]);
    return row.n;
  }

  /**
   * In the caller's transaction, one statement however many rows, in order. The rows travel as one
   * JSON array (serialised natively) rather than as text arrays, whose every element, each event's
   * JSON text included, the driver escapes in JavaScript.
   */
  async insert(tx: EntityManager, rows: OutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    await runSql(
      tx,
      `INSERT INTO outbox (topic, message_key, value)
       SELECT r.e->>'topic', r.e->>'key', r.e->>'value'
       FROM json_array_elements($1::json) WITH ORDINALITY AS r (e, n)
       ORDER BY r.n`,
      [JSON.stringify(rows.map((r) => ({ topic: r.topic, key: r.key, value: r.value })))],
    );
  }

  /**
   * Takes the oldest rows no other relay holds out of the outbox, in the caller's transaction (SKIP
   * LOCKED, in id order): they are gone once it commits, and back if it rolls back. The relay's
   * transaction commits without waiting for the disk (`synchronous_commit = off`): a commit lost in
   * a crash only brings rows back, which are published again (consumers are idempotent).
   */
  async take(tx: EntityManager, limit: number): Promise<PendingOutboxRow[]> {
    await runSql(tx, `SET LOCAL synchronous_commit = off`);
    const rows = await sqlRows<{ id: string; topic: string; message_key: string | null; value: string }>(
      tx,
      `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id, topic, message_key, value`,
      [limit],
    );
    return rows
      .map((r) => ({ id: r.id, topic: r.topic, key: r.message_key, value: r.value }))
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  }
}
