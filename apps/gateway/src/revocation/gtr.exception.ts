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
