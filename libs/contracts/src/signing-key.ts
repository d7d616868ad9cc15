/**
 * SPEC §4: the logout-token signing keys. The JWKS publishes `current` and `previous`, so a
 * rotation never breaks a token in flight; `retired` keys are kept, never published.
 */
export const SIGNING_KEY_STATUSES = ['current', 'previous', 'retired'] as const;
export type SigningKeyStatus = (typeof SIGNING_KEY_STATUSES)[number];

export const PUBLISHED_SIGNING_KEY_STATUSES = ['current', 'previous'] as const satisfies readonly SigningKeyStatus[];

/**
 * SPEC §4: the algorithms a client may choose for its logout tokens
 * (`oidc_logout.backchannel_logout_signing_alg`), with a current key each. RS256 is the default
 * (what OIDC libraries accept without configuration); ES256 (P-256) and EdDSA (Ed25519) sign in a
 * small fraction of its time.
 */
export const SIGNING_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];
export const DEFAULT_SIGNING_ALGORITHM: SigningAlgorithm = 'RS256';
