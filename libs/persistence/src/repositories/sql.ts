import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { PoolClient, QueryResult as PgResult } from 'pg';
import { QueryFailedError, type EntityManager } from 'typeorm';

/**
 * The name a statement is prepared under on each connection: the same SQL text always gets the
 * same name, so PostgreSQL parses and plans it once per connection and then only binds and runs it.
 * Repositories' SQL is a fixed set of texts (values always travel as parameters), so the cache is a
 * bound on memory, not a working set.
 */
const names = new LRUCache<string, string>({ max: 1000 });

function statementName(sql: string): string {
  let name = names.get(sql);
  if (name === undefined) {
    name = `ulo_${createHash('sha1').update(sql).digest('hex').slice(0, 32)}`;
    names.set(sql, name);
  }
  return name;
}

/**
 * Runs one statement on `manager` (a transaction's, or the data source's own) and returns its
 * rows and the number of rows it changed, whatever its kind: a SELECT, or an INSERT, UPDATE or
 * DELETE with or without RETURNING. The one place repositories run SQL text; each text runs as a
 * named prepared statement. A failure is TypeORM's QueryFailedError, as from `manager.query`.
 */
export async function runSql<T>(manager: EntityManager, sql: string, params: unknown[] = []): Promise<{ rows: T[]; affected: number }> {
  const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
  try {
    const client = (await runner.connect()) as PoolClient;
    let result: PgResult;
    try {
      result = await client.query({ name: statementName(sql), text: sql, values: params });
    } catch (err) {
      throw new QueryFailedError(sql, params, err as Error);
    }
    return { rows: result.rows as T[], affected: result.rowCount ?? result.rows.length };
  } finally {
    // A runner of the caller's transaction stays theirs; one made here goes back to the pool.
    if (runner !== manager.queryRunner) await runner.release();
  }
}

/** The rows of one statement (see {@link runSql}). */
export async function sqlRows<T>(manager: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await runSql<T>(manager, sql, params)).rows;
}
