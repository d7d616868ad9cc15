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
  // SPEC §9: logouts asked for by an SSF transmitter's CAEP events, selectable on their own.
  'caep-session-revoked',
  'caep-credential-change',
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
  'caep-session-revoked',
  'caep-credential-change',
] as const satisfies readonly BackchannelLogoutInitiator[];
export type Initiator = (typeof LOGOUT_REQUEST_INITIATORS)[number];

/**
 * The logouts an identity provider asked for (SPEC §2 Global Token Revocation, §9 Shared Signals):
 * each one, once both of its steps are done, is logged as `universal_logout_succeeded` (SPEC §3).
 */
export const IDENTITY_PROVIDER_INITIATORS = ['idp-logout', 'caep-session-revoked', 'caep-credential-change'] as const satisfies readonly Initiator[];

/** SPEC §6: what a client selects when it says nothing. */
export const DEFAULT_SELECTED_INITIATORS: readonly BackchannelLogoutInitiator[] = ['rp-logout', 'idp-logout'];

/** `all`: every initiator; `custom`: those in `selected_initiators`. */
export const INITIATOR_MODES = ['custom', 'all'] as const;
export type InitiatorMode = (typeof INITIATOR_MODES)[number];
