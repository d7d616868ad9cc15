import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764086400000 implements MigrationInterface {
  name = 'InitialSchema1764086400000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE connections (
        id text PRIMARY KEY,
        name text NOT NULL,
        strategy text NOT NULL CHECK (strategy IN ('okta', 'oidc', 'samlp')),
        options jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_connections_name UNIQUE (name)
      )`);
    await q.query(`
      CREATE TABLE clients (
        client_id text PRIMARY KEY,
        name text NOT NULL,
        oidc_logout jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE users (
        user_id text PRIMARY KEY,
        email text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE user_identities (
        id bigserial PRIMARY KEY,
        user_id text NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
        connection text NOT NULL,
        provider_user_id text NOT NULL,
        issuer text NOT NULL,
        email text
      )`);
    // GTR subject lookups (SPEC §2): iss_sub and case-insensitive email within a connection.
    await q.query(
      `CREATE UNIQUE INDEX uq_identity_connection_issuer_sub ON user_identities (connection, issuer, provider_user_id)`,
    );
    await q.query(`CREATE INDEX ix_identity_connection_email ON user_identities (connection, lower(email))`);
    await q.query(`CREATE INDEX ix_identity_user ON user_identities (user_id)`);

    await q.query(`
      CREATE TABLE sessions (
        id text PRIMARY KEY,
        user_id text NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        revoked_at timestamptz,
        revoked_by text,
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb
      )`);
    await q.query(`CREATE INDEX ix_sessions_active_by_user ON sessions (user_id, id) WHERE revoked_at IS NULL`);
    await q.query(`
      CREATE TABLE session_clients (
        session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        client_id text NOT NULL,
        PRIMARY KEY (session_id, client_id)
      )`);
    await q.query(`
      CREATE TABLE refresh_tokens (
        id text PRIMARY KEY,
        user_id text NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
        client_id text NOT NULL,
        session_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        revoked_at timestamptz,
        revoked_by text
      )`);
    await q.query(
      `CREATE INDEX ix_refresh_tokens_active_by_user ON refresh_tokens (user_id, id) WHERE revoked_at IS NULL`,
    );

    await q.query(`
      CREATE TABLE log_events (
        log_id text PRIMARY KEY,
        date timestamptz NOT NULL,
        type text NOT NULL,
        user_id text,
        connection text,
        client_id text,
        data jsonb NOT NULL
      )`);
    // Each filter of GET /api/v2/logs pages in log_id order through its own index.
    await q.query(`CREATE INDEX ix_log_events_type ON log_events (type, log_id)`);
    await q.query(`CREATE INDEX ix_log_events_user ON log_events (user_id, log_id)`);
    await q.query(`CREATE INDEX ix_log_events_connection ON log_events (connection, log_id)`);
    await q.query(`CREATE INDEX ix_log_events_client ON log_events (client_id, log_id)`);
    await q.query(`CREATE INDEX ix_log_events_date ON log_events (date)`);

    await q.query(`
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        message_key text,
        value text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
      )`);
    await q.query(`CREATE INDEX ix_outbox_pending ON outbox (id) WHERE published_at IS NULL`);

    await q.query(`
      CREATE TABLE logout_requests (
        id text PRIMARY KEY,
        initiator text NOT NULL,
        connection_id text,
        connection_name text,
        user_ids text[] NOT NULL,
        payload jsonb NOT NULL,
        origin jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        sessions_revoked integer,
        refresh_tokens_revoked integer,
        completed_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE seen_jtis (
        connection_id text NOT NULL,
        jti text NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (connection_id, jti)
      )`);
    await q.query(`CREATE INDEX ix_seen_jtis_expiry ON seen_jtis (expires_at)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'seen_jtis',
      'logout_requests',
      'outbox',
      'log_events',
      'refresh_tokens',
      'session_clients',
      'sessions',
      'user_identities',
      'users',
      'clients',
      'connections',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
