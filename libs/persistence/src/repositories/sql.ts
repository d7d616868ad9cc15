import type { EntityManager, QueryResult } from 'typeorm';

/**
 * Runs one statement on `manager` (a transaction's, or the data source's own) and returns its
 * rows and the number of rows it changed, whatever its kind: a SELECT, or an INSERT, UPDATE or
 * DELETE with or without RETURNING. The one place repositories run SQL text.
 */
export async function runSql<T>(manager: EntityManager, sql: string, params: unknown[] = []): Promise<{ rows: T[]; affected: number }> {
  const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
  try {
    const result: QueryResult = await runner.query(sql, params, true);
    return { rows: result.records as T[], affected: result.affected ?? result.records.length };
  } finally {
    // A runner of the caller's transaction stays theirs; one made here goes back to the pool.
    if (runner !== manager.queryRunner) await runner.release();
  }
}

/** The rows of one statement (see {@link runSql}). */
export async function sqlRows<T>(manager: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await runSql<T>(manager, sql, params)).rows;
}
