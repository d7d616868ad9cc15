export * from './outbound-url.policy';
