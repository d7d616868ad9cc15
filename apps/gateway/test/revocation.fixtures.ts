import { DataSource } from 'typeorm';
import { randomUUID } from 'node:crypto';

/**
 * Seeds a user with an identity at `connection`, and active sessions and refresh tokens. An email
 * given comes with its normalised form written out; the default email is normal already.
 */
export async function seedUser(
  ds: DataSource,
  opts: { connection: string; issuer: string; sub: string; email?: string; emailNormalized?: string; sessions?: number; refreshTokens?: number; clientIds?: string[] },
): Promise<{ userId: string; sessionIds: string[]; refreshTokenIds: string[] }> {
  const userId = `user|${randomUUID()}`;
  const email = opts.email ?? `${randomUUID().slice(0, 8)}@example.com`;
  if (opts.email !== undefined && opts.emailNormalized === undefined) throw new Error('seedUser: an email comes with its normalised form');
  const emailNormalized = opts.emailNormalized ?? email;
  await ds.query(`INSERT INTO users (user_id, email) VALUES ($1, $2)`, [userId, email]);
  const identity = await ds.query(
    `INSERT INTO user_identities (user_id, connection_id, provider_user_id, issuer, email, email_normalized)
     SELECT $1, id, $3, $4, $5, $6 FROM connections WHERE name = $2 RETURNING id`,
    [userId, opts.connection, opts.sub, opts.issuer, email, emailNormalized],
  );
  if (identity.length !== 1) throw new Error(`seedUser: no connection named "${opts.connection}"`);
  const sessionIds: string[] = [];
  const clientIds = opts.clientIds ?? ['client-a'];
  for (let i = 0; i < (opts.sessions ?? 2); i++) {
    const id = `ses_${randomUUID()}`;
    sessionIds.push(id);
    await ds.query(`INSERT INTO sessions (id, user_id) VALUES ($1, $2)`, [id, userId]);
    for (const c of clientIds) await ds.query(`INSERT INTO session_clients (session_id, client_id) VALUES ($1, $2)`, [id, c]);
  }
  const refreshTokenIds: string[] = [];
  for (let i = 0; i < (opts.refreshTokens ?? 2); i++) {
    const id = `rt_${randomUUID()}`;
    refreshTokenIds.push(id);
    // Every other token is offline (no session).
    await ds.query(`INSERT INTO refresh_tokens (id, user_id, client_id, session_id) VALUES ($1, $2, $3, $4)`, [
      id,
      userId,
      clientIds[0],
      i % 2 === 0 ? sessionIds[0] ?? null : null,
    ]);
  }
  return { userId, sessionIds, refreshTokenIds };
}

/** Everything a revocation may change, to assert that a rejected request changed none of it. */
export async function revocationState(ds: DataSource) {
  const [row] = await ds.query(`
    SELECT (SELECT count(*) FROM sessions WHERE revoked_at IS NULL)::int AS active_sessions,
           (SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL)::int AS active_refresh_tokens,
           (SELECT count(*) FROM logout_requests)::int AS logout_requests,
           (SELECT count(*) FROM seen_jtis)::int AS seen_jtis`);
  // The logout-requested event is written in the transaction that writes the logout request, so
  // logout_requests also counts the events (the outbox itself drains asynchronously).
  return row as Record<string, number>;
}
