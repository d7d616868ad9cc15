export * from './topics';
export * from './envelope';
export * from './logout-requested.event';
export * from './sessions-terminated.event';
export * from './dead-letter.event';
export * from './log-event';
export * from './payload-schemas';
