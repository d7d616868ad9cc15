import { DataSource } from 'typeorm';
import { CONNECTION_STRATEGIES, DELIVERY_STATUSES, LOG_STREAM_STATUSES, LOG_STREAM_TYPES, SIGNING_KEY_STATUSES } from '@ulo/contracts';
import { TEST_DATABASE_ENV, dropDatabase, uniqueSuffix } from '@ulo/testing';
import { createDataSource, ensureDatabase, migrate } from '@ulo/persistence';

/** A sibling of the run's test database, for a schema of its own. */
function databaseUrl(name: string): string {
  const url = new URL(process.env[TEST_DATABASE_ENV]!);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Every column (type, nullability, default), index (as PostgreSQL prints its definition, `WHERE`
 * included) and constraint (primary and foreign keys with their actions, unique, CHECK) of the
 * public schema, one line each. PostgreSQL normalises the text, so two schemas built by different
 * DDL compare equal exactly when they are the same. (Storage parameters such as the outbox's
 * autovacuum settings are not compared: TypeORM cannot describe them. Nor can it describe
 * partitioning: the partitions of a partitioned table, their indexes and constraints are left out,
 * and a partitioned table's own index, printed `ON ONLY`, reads as a plain table's; the test below
 * checks the partitioning.)
 */
async function catalogOf(ds: DataSource): Promise<string[]> {
  const rows: { line: string }[] = await ds.query(`
    WITH partitions AS (SELECT oid, relname FROM pg_class WHERE relispartition AND relnamespace = 'public'::regnamespace)
    SELECT format('column %s.%s %s%s%s', c.table_name, c.column_name, c.udt_name,
                  CASE WHEN c.is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END,
                  -- TypeORM writes a bigint default as the string '0'; the same value as the migrations' 0.
                  CASE WHEN c.column_default IS NULL THEN ''
                       ELSE ' DEFAULT ' || regexp_replace(c.column_default, '^''(-?[0-9]+)''::bigint$', '\\1') END) AS line
    FROM information_schema.columns c
    WHERE c.table_schema = 'public' AND c.table_name <> 'migrations' AND c.table_name NOT IN (SELECT relname FROM partitions)
    UNION ALL
    SELECT format('index %s', replace(i.indexdef, ' ON ONLY ', ' ON ')) FROM pg_indexes i
    WHERE i.schemaname = 'public' AND i.tablename <> 'migrations' AND i.tablename NOT IN (SELECT relname FROM partitions)
    UNION ALL
    SELECT format('constraint %s %s %s', k.conrelid::regclass, k.conname, pg_get_constraintdef(k.oid)) FROM pg_constraint k
    WHERE k.connamespace = 'public'::regnamespace AND k.conrelid::regclass::text <> 'migrations'
      AND k.conrelid NOT IN (SELECT oid FROM partitions)
    ORDER BY 1`);
  return rows.map((r) => r.line);
}

/** The values a CHECK of the form `column IN (...)` allows, as the database holds it. */
async function allowedBy(ds: DataSource, constraint: string): Promise<string[]> {
  const [row]: { def: string }[] = await ds.query(`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = $1`, [
    constraint,
  ]);
  return [...row.def.matchAll(/'([^']*)'::text/g)].map((m) => m[1]);
}

/**
 * STYLE §6: the migrations build the database and the entities describe the same one. If an
 * entity and a migration disagree (a missing index, a `where`, a foreign key, a CHECK, a default),
 * the next change made from the entities would undo what the migrations built.
 */
describe('the schema: migrations and entities describe one database', () => {
  const suffix = uniqueSuffix();
  const migratedUrl = databaseUrl(`ulo_schema_migrated_${suffix}`);
  const entitiesUrl = databaseUrl(`ulo_schema_entities_${suffix}`);
  let migrated: DataSource;
  let fromEntities: DataSource;

  beforeAll(async () => {
    await migrate(migratedUrl);
    migrated = await createDataSource(migratedUrl).initialize();
    // A throwaway database built from the entities alone: the one place synchronize runs.
    await ensureDatabase(entitiesUrl);
    fromEntities = await createDataSource(entitiesUrl).initialize();
    await fromEntities.synchronize();
  });

  afterAll(async () => {
    await migrated?.destroy();
    await fromEntities?.destroy();
    await dropDatabase(migratedUrl);
    await dropDatabase(entitiesUrl);
  });

  it("TypeORM's schema diff against the migrated database is empty", async () => {
    const diff = await migrated.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
  });

  // TypeORM's diff ignores an index's WHERE and column order and a CHECK's expression; the catalogs do not.
  it('the database the entities build is, column for column and index for index, the migrated one', async () => {
    const [expected, actual] = await Promise.all([catalogOf(migrated), catalogOf(fromEntities)]);
    expect(actual).toEqual(expected);
  });

  it('covers every table the migrations create', async () => {
    const tables: { table_name: string }[] = await migrated.query(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = 'public' AND table_name <> 'migrations'
         AND table_name NOT IN (SELECT relname FROM pg_class WHERE relispartition AND relnamespace = 'public'::regnamespace)
       ORDER BY 1`,
    );
    const described = migrated.entityMetadatas.map((m) => m.tableName).sort();
    expect(described).toEqual(tables.map((t) => t.table_name));
    expect(described).toEqual([
      'backchannel_deliveries',
      'clients',
      'connections',
      'log_events',
      'log_stream_fanouts',
      'log_stream_queue',
      'log_streams',
      'logout_requests',
      'outbox',
      'refresh_tokens',
      'seen_jtis',
      'session_clients',
      'sessions',
      'signing_keys',
      'user_identities',
      'users',
    ]);
  });

  it('partitions log_events by range of log_id, with a default partition, and no other table', async () => {
    expect(
      await migrated.query(`SELECT partrelid::regclass::text AS table, pg_get_partkeydef(partrelid) AS key FROM pg_partitioned_table`),
    ).toEqual([{ table: 'log_events', key: 'RANGE (log_id)' }]);
    expect(
      await migrated.query(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'log_events'::regclass AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'`,
      ),
    ).toEqual([{ name: 'log_events_default' }]);
  });

  describe('CHECK constraints allow exactly the values declared in @ulo/contracts', () => {
    it.each([
      ['connections_strategy_check', CONNECTION_STRATEGIES, ['okta', 'oidc', 'samlp']],
      ['signing_keys_status_check', SIGNING_KEY_STATUSES, ['current', 'previous', 'retired']],
      ['backchannel_deliveries_status_check', DELIVERY_STATUSES, ['pending', 'succeeded', 'failed', 'parked']],
      ['log_streams_type_check', LOG_STREAM_TYPES, ['http', 'kafka']],
      ['log_streams_status_check', LOG_STREAM_STATUSES, ['active', 'paused', 'suspended']],
    ])('%s', async (constraint, declared, written) => {
      expect([...declared]).toEqual(written);
      expect(await allowedBy(migrated, constraint)).toEqual(written);
    });
  });
});
