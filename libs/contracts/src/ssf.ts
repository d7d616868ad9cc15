/**
 * SPEC §9 `options.ssf.actions`: what a connection does with each CAEP event it accepts. A
 * `session-revoked` event always logs the user out; a `credential-change` event revokes the user's
 * refresh tokens (sessions kept), logs the user out, or is only logged.
 */
export const SESSION_REVOKED_ACTIONS = ['logout'] as const;
export type SessionRevokedAction = (typeof SESSION_REVOKED_ACTIONS)[number];

export const CREDENTIAL_CHANGE_ACTIONS = ['revoke-refresh-tokens', 'logout', 'log-only'] as const;
export type CredentialChangeAction = (typeof CREDENTIAL_CHANGE_ACTIONS)[number];

export interface SsfActions {
  'session-revoked': SessionRevokedAction;
  'credential-change': CredentialChangeAction;
}

/** SPEC §9: the actions of a connection that names none. */
export const DEFAULT_SSF_ACTIONS: Readonly<SsfActions> = { 'session-revoked': 'logout', 'credential-change': 'revoke-refresh-tokens' };

/** SPEC §9: the event types a receiver stream carries (CAEP 1.0 §3.1, §3.2; SSF 1.0 §8.1.4.1, §8.1.5). */
export const SSF_EVENT_TYPES = {
  sessionRevoked: 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
  credentialChange: 'https://schemas.openid.net/secevent/caep/event-type/credential-change',
  verification: 'https://schemas.openid.net/secevent/ssf/event-type/verification',
  streamUpdated: 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated',
} as const;

/** SPEC §9 `options.ssf.delivery`: the transmitter pushes (RFC 8935, the default) or this service polls (RFC 8936). */
export const SSF_DELIVERIES = ['push', 'poll'] as const;
export type SsfDelivery = (typeof SSF_DELIVERIES)[number];

/** SSF 1.0 §8.1.2: a stream's status as its transmitter reports it. */
export const SSF_STREAM_STATUSES = ['enabled', 'paused', 'disabled'] as const;
export type SsfStreamStatus = (typeof SSF_STREAM_STATUSES)[number];
