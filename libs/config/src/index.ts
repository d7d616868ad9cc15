export * from './env';
export * from './apps';
export * from './config.module';
