export * from './backoff';
export * from './transient-error';
export * from './outage-reporter';
export * from './retry-forever';
