import type { ConnectionEntity, RequestOrigin } from '@ulo/persistence';

/**
 * One revocation request on its way through the checks of SPEC §2: what the caller sent, and
 * what the checks have established so far (the rejection log and the limits read both).
 */
export interface RevocationAttempt {
  /** The connection name in the URL, as sent. */
  readonly connectionName: string;
  /** What the unverified-traffic limits count it against (sourceOf). */
  readonly source: string;
  readonly origin: RequestOrigin;
  readonly bearer: string | null;
  /** Reads and parses the JSON body (415, 413, 400); called once the request is admitted. */
  readonly readBody: () => Promise<unknown>;
  /** The connection it names, once found. */
  connection?: ConnectionEntity;
  /** Its token's signature and claims verified, and its jti is not known to be used. */
  verified: boolean;
}
