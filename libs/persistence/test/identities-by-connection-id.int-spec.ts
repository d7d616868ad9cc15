import { DataSource, Logger } from 'typeorm';
import { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { TEST_DATABASE_ENV, dropDatabase, uniqueSuffix } from '@ulo/testing';
import { dataSourceOptions, ensureDatabase, migrations } from '@ulo/persistence';

/**
 * The migration that ties identities to their connection by id, run on a database that already
 * holds identities (some orphaned, some with emails that cannot be normalised), then undone and
 * run again.
 */
describe('migration IdentitiesByConnectionId1764777600000 on a database holding data', () => {
  const url = new URL(process.env[TEST_DATABASE_ENV]!);
  url.pathname = `/ulo_migration_${uniqueSuffix()}`;
  const notices: string[] = [];
  const target = migrations.findIndex((m) => m.name === 'IdentitiesByConnectionId1764777600000');
  let ds: DataSource;

  const open = async (upTo: number) => {
    const logger: Logger = {
      logQuery: () => undefined,
      logQueryError: () => undefined,
      logQuerySlow: () => undefined,
      logSchemaBuild: () => undefined,
      logMigration: () => undefined,
      log: (level, message) => void (level === 'info' && notices.push(String(message))),
    };
    const source = new DataSource({
      ...(dataSourceOptions(url.toString(), 2) as PostgresConnectionOptions),
      migrations: migrations.slice(0, upTo),
      logNotifications: true,
      logger,
    });
    return source.initialize();
  };
  const identities = () =>
    ds.query(
      `SELECT user_id, connection_id, email, email_normalized FROM user_identities
       WHERE user_id NOT LIKE 'bulk-%' ORDER BY user_id`,
    );

  beforeAll(async () => {
    await ensureDatabase(url.toString());
    ds = await open(target);
    await ds.runMigrations({ transaction: 'each' });
    await ds.query(`INSERT INTO connections (id, name, strategy) VALUES ('con_acme', 'acme', 'okta'), ('con_other', 'other', 'samlp')`);
    await ds.query(`INSERT INTO users (user_id) SELECT unnest($1::text[])`, [['idn', 'nfd', 'orphan', 'bad-domain', 'no-email']]);
    await ds.query(
      `INSERT INTO user_identities (user_id, connection, provider_user_id, issuer, email)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])`,
      [
        ['idn', 'nfd', 'orphan', 'bad-domain', 'no-email'],
        ['acme', 'other', 'deleted-long-ago', 'acme', 'acme'],
        ['1', '2', '3', '4', '5'],
        ['https://acme.okta.com', 'urn:other', 'https://gone.example', 'https://acme.okta.com', 'https://acme.okta.com'],
        ['Jane@Bücher.example', 'Zoe\u0308@Example.COM', 'gone@example.com', 'bad@xn--a.example', null],
      ],
    );
    // More rows than one batch of the email backfill.
    await ds.query(`INSERT INTO users (user_id) SELECT 'bulk-' || g FROM generate_series(1, 2500) g`);
    await ds.query(
      `INSERT INTO user_identities (user_id, connection, provider_user_id, issuer, email)
       SELECT 'bulk-' || g, 'acme', 'bulk-' || g, 'https://acme.okta.com', 'User' || g || '@Example.COM' FROM generate_series(1, 2500) g`,
    );
    await ds.destroy();
    ds = await open(migrations.length);
    expect((await ds.runMigrations({ transaction: 'each' })).map((m) => m.name)).toEqual(
      migrations.slice(target).map((m) => new m().name),
    );
  });

  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await dropDatabase(url.toString());
  });

  it('fills connection_id from the name, deletes orphaned identities with a NOTICE, keeps their users', async () => {
    expect(await identities()).toEqual([
      { user_id: 'bad-domain', connection_id: 'con_acme', email: 'bad@xn--a.example', email_normalized: null },
      { user_id: 'idn', connection_id: 'con_acme', email: 'Jane@Bücher.example', email_normalized: 'jane@xn--bcher-kva.example' },
      { user_id: 'nfd', connection_id: 'con_other', email: 'Zoe\u0308@Example.COM', email_normalized: 'zo\u00eb@example.com' },
      { user_id: 'no-email', connection_id: 'con_acme', email: null, email_normalized: null },
    ]);
    expect(await ds.query(`SELECT user_id FROM users WHERE user_id = 'orphan'`)).toEqual([{ user_id: 'orphan' }]);
    expect(notices).toContain('user_identities: deleted 1 identities whose connection no longer exists');
    expect(notices).toContain('user_identities: 1 emails cannot be normalised; email subjects do not find them');
  });

  it('normalises every email, across batches', async () => {
    const [bulk] = await ds.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE email_normalized = lower(email))::int AS normalized
       FROM user_identities WHERE user_id LIKE 'bulk-%'`,
    );
    expect(bulk).toEqual({ n: 2500, normalized: 2500 });
  });

  it('refuses an identity of a connection that does not exist', async () => {
    await expect(
      ds.query(`INSERT INTO user_identities (user_id, connection_id, provider_user_id, issuer) VALUES ('idn', 'con_nope', 'x', 'y')`),
    ).rejects.toMatchObject({ driverError: { code: '23503', constraint: 'fk_identity_connection' } });
  });

  it('can be undone and run again', async () => {
    // The later migrations first, then this one.
    for (let undo = migrations.length - target; undo > 0; undo--) await ds.undoLastMigration({ transaction: 'each' });
    expect(await ds.query(`SELECT user_id, connection FROM user_identities WHERE user_id IN ('idn', 'nfd') ORDER BY user_id`)).toEqual([
      { user_id: 'idn', connection: 'acme' },
      { user_id: 'nfd', connection: 'other' },
    ]);
    await ds.runMigrations({ transaction: 'each' });
    expect((await identities()).map((r: { user_id: string }) => r.user_id)).toEqual(['bad-domain', 'idn', 'nfd', 'no-email']);
  });

  it('deletes the identities of a deleted connection, not its users', async () => {
    await ds.query(`DELETE FROM connections WHERE id = 'con_acme'`);
    expect(await identities()).toEqual([
      { user_id: 'nfd', connection_id: 'con_other', email: 'Zoe\u0308@Example.COM', email_normalized: 'zo\u00eb@example.com' },
    ]);
    const [users] = await ds.query(`SELECT count(*)::int AS n FROM users`);
    expect(users.n).toBe(2505);
  });
});
