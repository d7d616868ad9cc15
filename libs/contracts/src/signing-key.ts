/**
 * SPEC §4: the logout-token signing keys. The JWKS publishes `current` and `previous`, so a
 * rotation never breaks a token in flight; `retired` keys are kept, never published.
 */
export const SIGNING_KEY_STATUSES = ['current', 'previous', 'retired'] as const;
export type SigningKeyStatus = (typeof SIGNING_KEY_STATUSES)[number];

export const PUBLISHED_SIGNING_KEY_STATUSES = ['current', 'previous'] as const satisfies readonly SigningKeyStatus[];
