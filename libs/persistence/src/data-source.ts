import { DataSource, DataSourceOptions } from 'typeorm';
import { entities } from './entities';
import { migrations } from './migrations';

/** The one data-source definition, shared by Nest (TypeOrmModule) and the migration CLI. */
export function dataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations,
    synchronize: false,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    // A query waits at most this long for a connection (a free one, or a new one while the
    // database restarts), then fails and its caller retries or answers 503.
    extra: { max: poolSize, connectionTimeoutMillis: 10_000 },
  };
}

export function createDataSource(url: string): DataSource {
  return new DataSource(dataSourceOptions(url));
}
