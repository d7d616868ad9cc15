export * from './outbound-url.policy';
export * from './safe-lookup';
export * from './safe-http.client';
export * from './remote-key-set';
export * from './key-encryption';
export * from './logout-token';
export * from './signing-key.store';
export * from './secret-reseal';
