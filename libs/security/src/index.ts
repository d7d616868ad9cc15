export * from './outbound-url.policy';
export * from './safe-lookup';
export * from './safe-http.client';
