/** RFC 8935 §2.4 (the IANA "Security Event Token Error Codes"): the `err` of a 400 to a pushed SET. */
export const SET_ERRORS = ['invalid_request', 'invalid_key', 'invalid_issuer', 'invalid_audience', 'authentication_failed', 'access_denied'] as const;
export type SetError = (typeof SET_ERRORS)[number];

/**
 * A Security Event Token refused (SPEC §9): 400 with one RFC 8935 error code; 429 and 503 (the
 * limits, an outage) carry a Retry-After and an `err` of their own, read by the status.
 */
export class SsfException extends Error {
  constructor(
    readonly status: 400 | 429 | 503,
    readonly err: SetError | 'rate_limited' | 'temporarily_unavailable',
    readonly description: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(description);
  }
}

export const setInvalid = (description: string) => new SsfException(400, 'invalid_request', description);
export const setKeyInvalid = (description: string) => new SsfException(400, 'invalid_key', description);
export const setIssuerInvalid = (description: string) => new SsfException(400, 'invalid_issuer', description);
export const setAudienceInvalid = (description: string) => new SsfException(400, 'invalid_audience', description);
export const setUnauthenticated = (description: string) => new SsfException(400, 'authentication_failed', description);
export const setAccessDenied = (description: string) => new SsfException(400, 'access_denied', description);
