import { Client } from 'pg';

/** The URL of another database on the same server. */
export function databaseUrl(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(base: string, work: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl(base, 'postgres') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const quoted = (name: string) => `"${name.replace(/"/g, '""')}"`;

export async function createDatabase(base: string, name: string): Promise<void> {
  await withAdmin(base, (c) => c.query(`CREATE DATABASE ${quoted(name)}`));
}

/** Drops the bench database; FORCE ends sessions a killed child may have left behind. */
export async function dropDatabase(base: string, name: string): Promise<void> {
  await withAdmin(base, (c) => c.query(`DROP DATABASE IF EXISTS ${quoted(name)} WITH (FORCE)`));
}

/** A group of users seeded for one phase: user ids `bench|<group>|<n>`, subjects `00u<group><n>`. */
export interface UserGroup {
  group: string;
  count: number;
}

export const userIdOf = (group: string, n: number) => `bench|${group}|${n}`;
export const providerUserIdOf = (group: string, n: number) => `00u${group}${n}`;

export const SESSIONS_PER_USER = 2;
export const REFRESH_TOKENS_PER_USER = 2;
export const BENCH_CLIENT_ID = 'bench-app';

/**
 * Bulk inserts, one statement per table and group, computed by PostgreSQL (generate_series): each
 * user has an identity at the bench connection, 2 sessions (each with a session_clients row) and
 * 2 refresh tokens, all created before any logout request.
 */
export async function seedUsers(
  client: Client,
  groups: UserGroup[],
  connection: { name: string; issuer: string },
): Promise<number> {
  let users = 0;
  for (const { group, count } of groups) {
    const userId = `bench|${group}|`;
    await client.query('BEGIN');
    try {
      await client.query(
        `INSERT INTO users (user_id, email)
         SELECT $1::text || g, 'user' || g || '.' || $2::text || '@bench.example' FROM generate_series(1, $3::int) g`,
        [userId, group, count],
      );
      await client.query(
        `INSERT INTO user_identities (user_id, connection_id, provider_user_id, issuer, email, email_normalized)
         SELECT $1::text || g, c.id, $2::text || g, $5::text, e.email, lower(e.email)
         FROM generate_series(1, $3::int) g, connections c,
              LATERAL (SELECT 'user' || g || '.' || $6::text || '@bench.example' AS email) e
         WHERE c.name = $4::text`,
        [userId, `00u${group}`, count, connection.name, connection.issuer, group],
      );
      await client.query(
        `INSERT INTO sessions (id, user_id, expires_at)
         SELECT 'ses_' || $2::text || '_' || g || '_' || k, $1::text || g, now() + interval '1 day'
         FROM generate_series(1, $3::int) g, generate_series(1, $4::int) k`,
        [userId, group, count, SESSIONS_PER_USER],
      );
      await client.query(
        `INSERT INTO session_clients (session_id, client_id)
         SELECT 'ses_' || $1::text || '_' || g || '_' || k, $4::text
         FROM generate_series(1, $2::int) g, generate_series(1, $3::int) k`,
        [group, count, SESSIONS_PER_USER, BENCH_CLIENT_ID],
      );
      await client.query(
        `INSERT INTO refresh_tokens (id, user_id, client_id, session_id, expires_at)
         SELECT 'rt_' || $2::text || '_' || g || '_' || k, $1::text || g, $5::text,
                'ses_' || $2::text || '_' || g || '_' || (1 + (k - 1) % $6::int), now() + interval '30 days'
         FROM generate_series(1, $3::int) g, generate_series(1, $4::int) k`,
        [userId, group, count, REFRESH_TOKENS_PER_USER, BENCH_CLIENT_ID, SESSIONS_PER_USER],
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    }
    users += count;
  }
  await client.query('ANALYZE users, user_identities, sessions, session_clients, refresh_tokens');
  return users;
}
