/** SPEC §2.2, §6: the kinds of identity provider connection, each with its own trust anchor. */
export const CONNECTION_STRATEGIES = ['okta', 'oidc', 'samlp'] as const;
export type ConnectionStrategy = (typeof CONNECTION_STRATEGIES)[number];
