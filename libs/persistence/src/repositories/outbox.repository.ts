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
  /** In the caller's transaction, one statement however many rows: the columns go as arrays, in order. */
  async insert(tx: EntityManager, rows: OutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    await runSql(
      tx,
      `INSERT INTO outbox (topic, message_key, value)
       SELECT topic, message_key, value
       FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS r (topic, message_key, value, n)
       ORDER BY n`,
      [rows.map((r) => r.topic), rows.map((r) => r.key), rows.map((r) => r.value)],
    );
  }

  /** The oldest rows no other relay holds, locked for the caller's transaction (SKIP LOCKED). */
  async claim(tx: EntityManager, limit: number): Promise<PendingOutboxRow[]> {
    const rows = await sqlRows<{ id: string; topic: string; message_key: string | null; value: string }>(
      tx,
      `SELECT id, topic, message_key, value FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    return rows.map((r) => ({ id: r.id, topic: r.topic, key: r.message_key, value: r.value }));
  }

  /** Published (or dead-lettered): gone. */
  async remove(tx: EntityManager, ids: string[]): Promise<void> {
    if (ids.length > 0) await runSql(tx, `DELETE FROM outbox WHERE id = ANY($1::bigint[])`, [ids]);
  }
}
