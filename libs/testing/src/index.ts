export * from './test-environment';
export * from './poll-until';
export * from './database';
export * from './fake-idp';
export * from './app-process';
export * from './rp-receiver';
export * from './kafka-topics';
export * from './free-port';
