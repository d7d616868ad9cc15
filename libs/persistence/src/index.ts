export * from './entities';
export * from './migrations';
export * from './data-source';
export * from './migrate.cli';
export * from './persistence.module';
export * from './repositories/logout-request.repository';
export * from './repositories/session.repository';
export * from './repositories/refresh-token.repository';
