import { DataSource } from 'typeorm';


/** Empties every table of the test database between tests (the schema stays). */
export async function truncateAll(ds: DataSource): Promise<void> {
  const existing: { tablename: string }[] = await ds.query(
    `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations'`,
  );
  const names = existing.map((t) => t.tablename);
  if (names.length) await ds.query(`TRUNCATE ${names.map((n) => `"${n}"`).join(', ')} RESTART IDENTITY CASCADE`);
}
