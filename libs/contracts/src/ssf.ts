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
