/** A rejection of a Global Token Revocation request: one status, one OAuth error code (SPEC §2 table). */
export class GtrException extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 413 | 415 | 429 | 503,
    readonly error: string,
    readonly description: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(description);
  }
}

export const invalidRequest = (description: string) => new GtrException(400, 'invalid_request', description);
export const invalidToken = (description: string) => new GtrException(401, 'invalid_token', description);
export const notFound = (description: string) => new GtrException(404, 'not_found', description);
export const rateLimited = (description: string, retryAfterSeconds: number) =>
  new GtrException(429, 'rate_limited', description, retryAfterSeconds);

/**
 * RFC 6750 §3: the `WWW-Authenticate` challenge of a 401. The description may quote what a caller
 * sent; only the characters RFC 6750 allows in it (printable ASCII but `"` and `\`) reach the
 * header, so no input can break the header or the response.
 */
export function bearerChallenge(description: string): string {
  const safe = description.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?').slice(0, 200);
  return `Bearer error="invalid_token", error_description="${safe}"`;
}
