/**
 * The CHECK expression that keeps `column` to one of `values`: the entities derive their checks
 * from the lists in @ulo/contracts, so a value is declared once (the schema test compares them
 * with what the migrations built).
 */
export function oneOf(column: string, values: readonly string[]): string {
  return `${column} IN (${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ')})`;
}
