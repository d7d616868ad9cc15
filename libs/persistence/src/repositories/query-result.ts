/**
 * The rows of a raw query: TypeORM's postgres driver answers an UPDATE/DELETE … RETURNING with
 * `[rows, rowCount]` and a SELECT with the rows alone.
 */
export function normalise<T>(result: T[] | [T[], number]): T[] {
  return Array.isArray(result[0]) && typeof result[1] === 'number' ? result[0] : (result as T[]);
}
