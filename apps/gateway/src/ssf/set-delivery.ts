import type { ConnectionEntity, RequestOrigin } from '@ulo/persistence';

/**
 * One Security Event Token on its way through the checks of SPEC §9: how it came, and what the
 * checks have established so far (the rejection log and the limits read both).
 */
export interface SetDelivery {
  /** What the unverified-traffic limits count it against (sourceOf); none for a SET this service fetched (poll). */
  readonly source?: string;
  readonly origin: RequestOrigin;
  /** The connection it was delivered for, once found. */
  connection?: ConnectionEntity;
  /** The transmitter proved who it is: the push Authorization matched (a poll: our own request). */
  authenticated: boolean;
  /** Its jti and event type, once its signature and claims verified. */
  jti?: string;
  eventType?: string;
}
