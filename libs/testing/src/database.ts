import { Client } from 'pg';
import { DataSource } from 'typeorm';


/** Empties every table of the test database between tests (the schema stays). */
export async function truncateAll(ds: DataSource): Promise<void> {
  const existing: { tablename: string }[] = await ds.query(
    `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations'`,
  );
  const names = existing.map((t) => t.tablename);
  if (names.length) await ds.query(`TRUNCATE ${names.map((n) => `"${n}"`).join(', ')} RESTART IDENTITY CASCADE`);
}

/** Drops the database `url` names, whoever is still connected to it (a test's own database). */
export async function dropDatabase(url: string): Promise<void> {
  const admin = new URL(url);
  const name = decodeURIComponent(admin.pathname.slice(1));
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
