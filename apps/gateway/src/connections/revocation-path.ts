/** A connection's Global Token Revocation endpoint, relative to the public base URL (SPEC §2). */
export const revocationPath = (name: string) => `/oauth/global-token-revocation/connection/${encodeURIComponent(name)}`;
