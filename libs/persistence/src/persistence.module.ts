import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@ulo/config';
import { dataSourceOptions } from './data-source';
import { DatabaseConnection } from './database-connection';

@Global()
@Module({})
export class PersistenceModule {
  static forRoot(): DynamicModule {
    return {
      module: PersistenceModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [APP_CONFIG],
          // DatabaseConnection connects it: an unreachable database must not stop the app (SPEC §8).
          useFactory: (c: AppConfig) => ({ ...dataSourceOptions(c.database.url, c.database.poolSize), manualInitialization: true }),
        }),
      ],
      providers: [DatabaseConnection],
      exports: [TypeOrmModule, DatabaseConnection],
    };
  }
}
