/** SPEC §5: Auth0's log event shape, as stored, queried and streamed. */
export const logEventTypes = {
  universal_logout_succeeded: 'auth.logout.success',
  universal_logout_failed: 'auth.logout.fail',
  oidc_backchannel_logout_succeeded: 'auth.logout.success',
  oidc_backchannel_logout_failed: 'auth.logout.fail',
  srrt: 'user.success',
  sapi: 'management.success',
  fapi: 'management.fail',
  // SPEC §9: every Security Event Token received, by what became of it.
  ssf_event_accepted: 'ssf',
  ssf_event_ignored: 'ssf',
  ssf_event_rejected: 'ssf',
} as const;

export type LogEventType = keyof typeof logEventTypes;
export type LogCategory = (typeof logEventTypes)[LogEventType];

export interface LogEvent {
  log_id: string;
  date: string;
  type: LogEventType;
  description: string;
  connection: string | null;
  connection_id: string | null;
  client_id: string | null;
  client_name: string | null;
  user_id: string | null;
  identity_user_id: string | null;
  ip: string | null;
  user_agent: string | null;
  hostname: string | null;
  details: Record<string, unknown>;
}

export function categoryOf(type: LogEventType): LogCategory {
  return logEventTypes[type];
}

/** What a producer says; the recorder adds log_id and date and fills the rest with null. */
export type LogEventInput = Partial<Omit<LogEvent, 'log_id' | 'date' | 'type' | 'description'>> & {
  type: LogEventType;
  description: string;
};
