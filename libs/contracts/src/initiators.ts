/**
 * SPEC §6 `clients`: Auth0's back-channel logout initiators, the events after which an application
 * asks to be told (`oidc_logout.backchannel_logout_initiators.selected_initiators`).
 */
export const BACKCHANNEL_LOGOUT_INITIATORS = [
  'rp-logout',
  'idp-logout',
  'password-changed',
  'session-expired',
  'session-revoked',
  'account-deleted',
  'email-identifier-changed',
  'mfa-phone-unenrolled',
  'account-deactivated',
] as const;
export type BackchannelLogoutInitiator = (typeof BACKCHANNEL_LOGOUT_INITIATORS)[number];

/**
 * The initiators a logout request of this service can carry (SPEC §3, §6): a subset of the ones an
 * application can select, so every request can be matched against a client's selection.
 */
export const LOGOUT_REQUEST_INITIATORS = [
  'idp-logout',
  'session-revoked',
  'rp-logout',
  'password-changed',
  'account-deleted',
] as const satisfies readonly BackchannelLogoutInitiator[];
export type Initiator = (typeof LOGOUT_REQUEST_INITIATORS)[number];

/** SPEC §6: what a client selects when it says nothing. */
export const DEFAULT_SELECTED_INITIATORS: readonly BackchannelLogoutInitiator[] = ['rp-logout', 'idp-logout'];

/** `all`: every initiator; `custom`: those in `selected_initiators`. */
export const INITIATOR_MODES = ['custom', 'all'] as const;
export type InitiatorMode = (typeof INITIATOR_MODES)[number];
