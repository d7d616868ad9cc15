import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, JWTPayload, ProtectedHeaderParameters } from 'jose';
import { LRUCache } from 'lru-cache';
import { DataSource, QueryFailedError } from 'typeorm';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import type { LogEventInput, LogoutRequested } from '@ulo/contracts';
import { LogEventRecorder, OutboxRelay } from '@ulo/messaging';
import { ConnectionEntity, GroupCommit, type RequestOrigin, type StoredSsfOptions } from '@ulo/persistence';
import { isTransient } from '@ulo/resilience';
import { SecretEnvelopeException } from '@ulo/security';
import { storedSsfOptionsOf } from '../connections/ssf-options';
import { SsfSecrets } from '../connections/ssf-secrets';
import { AcceptedLogouts } from '../logouts/accepted-logouts';
import { ConnectionDirectory } from '../revocation/connection-directory';
import { IdpKeysService, KeysUnavailableException } from '../revocation/idp-keys.service';
import { SeenJtiRepository } from '../revocation/seen-jti.repository';
import type { Subject } from '../revocation/subject';
import { SubjectResolverRepository } from '../revocation/subject-resolver.repository';
import { ASYMMETRIC_ALGS } from '../revocation/token-rules';
import { UnverifiedTrafficLimiter } from '../revocation/unverified-traffic-limiter';
import { actionFor, readSecurityEvent, type SecurityEvent } from './security-event';
import { SET_MAX_AGE_SECONDS, checkSetClaims, checkSetHeader, type VerifiedSet } from './set-rules';
import { SetDelivery } from './set-delivery';
import { SsfException, setAccessDenied, setInvalid, setKeyInvalid, setUnauthenticated } from './ssf.exception';
import { SsfRejectionLog } from './ssf-rejection-log';

/** Used jtis this instance remembers, so that replays of one captured SET cost no query. */
const MAX_REMEMBERED_JTIS = 10_000;
/**
 * SPEC §9 "jti used once per connection", in the replay store GTR tokens use (`seen_jtis`): a
 * SET's jti is kept under this prefix. A GTR jti holds no control character (token-rules), so the
 * two never meet.
 */
const SET_JTI_PREFIX = 'set\u001f';

/** What became of an accepted SET (every one is answered 202). */
export type SecurityEventOutcome =
  /** A CAEP event for known users: their logout is recorded with its event (the same outbox as GTR). */
  | {
      kind: 'logout-requested';
      event: 'session-revoked' | 'credential-change';
      jti: string;
      action: 'logout' | 'revoke-refresh-tokens';
      requestId: string;
      userIds: string[];
    }
  /** A credential change on a connection whose action is `log-only`. */
  | { kind: 'logged'; event: 'credential-change'; jti: string; userIds: string[] }
  /** A CAEP event for a subject that names no user of the connection. */
  | { kind: 'no-user'; event: 'session-revoked' | 'credential-change'; jti: string }
  /** SSF 1.0 verification event (stream management asks the transmitter for one). */
  | { kind: 'verification'; jti: string; state: string | null }
  /** SSF 1.0 stream-updated event: the stream's new status, recorded in the log. */
  | { kind: 'stream-updated'; jti: string; status: string }
  /** An event type this receiver does not act on. */
  | { kind: 'ignored'; eventType: string; jti: string };

/** A verified SET on its way into a group commit. */
interface Acceptance {
  connection: ConnectionEntity;
  ssf: StoredSsfOptions;
  set: VerifiedSet;
  event: SecurityEvent;
  origin: RequestOrigin;
}

type Committed = SecurityEventOutcome | { kind: 'replayed' };

/**
 * SPEC §9: receives a Security Event Token for a connection, verifies it completely, then records
 * what it asks for durably — the replay marker, the logout request and its `logout-requested`
 * event (the outbox GTR uses), and its log event, in one PostgreSQL transaction — before the 202.
 * The checks run in this order, each answering one status and `err`:
 *
 *  push only (`execute`; a poll has authenticated the transmitter itself and starts at 3):
 *  1. the unverified-traffic limits of the request's source and of all sources   429
 *  2. the connection named in the URL, with `options.ssf`                          400 access_denied
 *  3. the Authorization header equals `push_authorization` (constant time)        400 authentication_failed
 *  then (`accept`):
 *  4. the SET's header: a compact JWS; typ; alg; kid                              400 invalid_request / invalid_key
 *  5. the signature, with the keys of the transmitter's jwks_uri                  400 invalid_key
 *  6. iss, aud, iat (± skew, at most 15 minutes old), jti present                 400 invalid_issuer / invalid_audience / invalid_request
 *  7. `events`: exactly one event; for CAEP events, the subject (SPEC §2 formats); 400 invalid_request
 *     the jti not known used by this instance
 *     — from here on the SET is verified
 *  8. the users; the jti used up, and what the event does recorded with its log   202 / 400 invalid_request (replay)
 *     — 8 for all the verified SETs that arrive together, in one commit
 *
 * A refused SET changes nothing but the log (SsfRejectionLog, within its budget).
 */
@Injectable()
export class AcceptSecurityEvent {
  private readonly log = new Logger(AcceptSecurityEvent.name);
  private readonly usedJtis = new LRUCache<string, true>({ max: MAX_REMEMBERED_JTIS });
  private readonly acceptances = new GroupCommit<Acceptance, Committed>((batch) => this.acceptTogether(batch), 256, 2);

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionDirectory,
    private readonly unverified: UnverifiedTrafficLimiter,
    private readonly keys: IdpKeysService,
    private readonly secrets: SsfSecrets,
    private readonly subjects: SubjectResolverRepository,
    private readonly seenJtis: SeenJtiRepository,
    private readonly logouts: AcceptedLogouts,
    private readonly logs: LogEventRecorder,
    private readonly relay: OutboxRelay,
    private readonly rejections: SsfRejectionLog,
  ) {}

  /** RFC 8935 push delivery: steps 1-3, then {@link accept}. */
  async execute(
    connectionName: string,
    setJwt: string,
    authorization: string | null,
    delivery: SetDelivery = { origin: {}, authenticated: false },
  ): Promise<SecurityEventOutcome> {
    this.admit(connectionName, delivery);
    const connection = await this.receiverOf(connectionName, delivery);
    await this.authenticate(connection, authorization);
    delivery.authenticated = true;
    return this.accept(connection, setJwt, delivery);
  }

  /**
   * Steps 4-8 for a SET whose transmitter has authenticated already: after the push
   * Authorization, or a SET this service fetched itself (RFC 8936 poll delivery).
   */
  async accept(connection: ConnectionEntity, setJwt: string, delivery: SetDelivery = { origin: {}, authenticated: true }): Promise<SecurityEventOutcome> {
    delivery.connection = connection;
    const ssf = storedSsfOptionsOf(connection.options);
    if (!ssf) throw setAccessDenied(`Shared Signals are not enabled on connection "${connection.name}"`);
    const set = await this.verify(connection, ssf, setJwt);
    delivery.jti = set.jti;
    const event = readSecurityEvent(set);
    delivery.eventType = event.type;
    // SPEC §9: a replay this instance has already seen is refused here, without a query; the database refuses the others (8).
    if (this.usedJtis.has(jtiKey(connection, set))) throw replayed();
    if (delivery.source !== undefined) this.unverified.verified(delivery.source);

    const outcome = await this.unlessDatabaseDown(() => this.acceptances.submit({ connection, ssf, set, event, origin: delivery.origin }));
    // Used up whatever became of it (by this SET or an earlier one); a 503 above used up nothing.
    this.remember(connection, set);
    if (outcome.kind === 'replayed') throw replayed();
    return outcome;
  }

  /**
   * SPEC §9, §5: `ssf_event_rejected` for each refused SET, within the log budget. A request that
   * ended unauthenticated is charged to the unverified-traffic limits; a 503 is ours, not the
   * caller's, and costs it nothing.
   */
  async recordRejection(connectionName: string, delivery: SetDelivery, err: SsfException): Promise<void> {
    if (err.status === 503) return;
    if (!delivery.authenticated && delivery.source !== undefined) this.unverified.failed(delivery.source);
    // Refused before its connection was looked up (its media type, its size): logged against the
    // connection it names, if that is known without a query.
    delivery.connection ??= this.connections.lastKnown(connectionName);
    await this.rejections.record(connectionName, delivery, err);
  }

  // 1. SPEC §2 "Hostile traffic" (the endpoint is public too): junk is limited before any work.
  private admit(connectionName: string, delivery: SetDelivery): void {
    if (delivery.source === undefined) return;
    const refused = this.unverified.admit(delivery.source);
    if (!refused) return;
    // Logged against the connection it names, if that is known without a query.
    delivery.connection = this.connections.lastKnown(connectionName);
    const why = refused.scope === 'source' ? 'too many unauthenticated requests from this address' : 'too many unauthenticated requests';
    throw new SsfException(429, 'rate_limited', why, refused.wait);
  }

  // 2. SPEC §9: `options.ssf` turns the endpoint on for a connection (RFC 8935 §2.4 access_denied).
  private async receiverOf(connectionName: string, delivery: SetDelivery): Promise<ConnectionEntity> {
    const connection = await this.unlessDatabaseDown(() => this.connections.find(connectionName));
    if (!connection) throw setAccessDenied('unknown connection');
    delivery.connection = connection;
    if (!storedSsfOptionsOf(connection.options)) throw setAccessDenied(`Shared Signals are not enabled on connection "${connection.name}"`);
    return connection;
  }

  // 3. RFC 8935 §2, SPEC §9: the Authorization header is the one the transmitter was given, compared in constant time.
  private async authenticate(connection: ConnectionEntity, authorization: string | null): Promise<void> {
    if (!authorization) throw setUnauthenticated('the Authorization header is required');
    const ssf = storedSsfOptionsOf(connection.options)!;
    let expected: string;
    try {
      expected = await this.secrets.pushAuthorization(connection.id, ssf);
    } catch (err) {
      if (!(err instanceof SecretEnvelopeException)) throw err;
      // Ours to fix (the secret changed without `npm run secrets:reseal`), not the transmitter's: it retries.
      this.log.error(`the SSF push authorization of connection ${connection.name} cannot be opened: ${err.message}`);
      throw new SsfException(503, 'temporarily_unavailable', 'the SET could not be authenticated; retry later', 30);
    }
    const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
    if (!timingSafeEqual(digest(authorization), digest(expected))) throw setUnauthenticated('the Authorization header is not the one of this connection');
  }

  // 4-6. SPEC §9: verified like a GTR token, against the transmitter's keys.
  private async verify(connection: ConnectionEntity, ssf: StoredSsfOptions, setJwt: string): Promise<VerifiedSet> {
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(setJwt);
    } catch {
      throw setInvalid('the body is not a Security Event Token (a compact JWS)');
    }
    checkSetHeader(header);
    let payload: JWTPayload;
    try {
      const { key } = await this.keys.transmitterFor(connection, ssf.issuer);
      const verified = await jwtVerify(setJwt, key, { algorithms: ASYMMETRIC_ALGS, clockTolerance: this.config.security.clockSkewSeconds });
      payload = verified.payload;
    } catch (err) {
      throw verificationFailure(err);
    }
    const set = checkSetClaims(payload, {
      issuer: ssf.issuer,
      audience: ssf.audience,
      clockSkewSeconds: this.config.security.clockSkewSeconds,
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    return set;
  }

  /**
   * 8. The verified SETs that arrive together, in one go (a group commit): their subjects
   * resolved in one statement, then one transaction that uses up every jti and records, for each
   * whose jti was fresh, the logout it asks for (with its event) and its log event. A replayed jti
   * records nothing; every 202 waits for the commit that holds its SET.
   */
  private async acceptTogether(batch: Acceptance[]): Promise<Committed[]> {
    const lookups = batch.flatMap(({ connection, event }, i) => ('subject' in event ? [{ at: i, connection, subject: event.subject }] : []));
    const resolved = await this.subjects.resolve(lookups);
    const users = new Map(lookups.map((l, n) => [l.at, resolved[n]]));
    const planned = batch.map((item, i) => plan(item, users.get(i) ?? []));

    const fresh = await this.dataSource.transaction(async (tx) => {
      const used = await this.seenJtis.useUp(
        tx,
        batch.map(({ connection, set }) => ({ connectionId: connection.id, jti: `${SET_JTI_PREFIX}${set.jti}`, expiresAt: this.replayMarkerExpiry(set) })),
      );
      await this.logouts.record(
        tx,
        planned.flatMap((p, i) => (used[i] && p.request ? [{ request: p.request, origin: batch[i].origin, subject: p.subject }] : [])),
      );
      await this.logs.record(
        tx,
        planned.flatMap((p, i) => (used[i] ? [p.log] : [])),
      );
      return used;
    });
    if (fresh.some(Boolean)) this.relay.kick();
    this.log.debug(`accepted ${fresh.filter(Boolean).length} of ${batch.length} verified SET(s) in one commit`);
    return planned.map((p, i) => (fresh[i] ? p.outcome : { kind: 'replayed' }));
  }

  /** SPEC §9: a SET is stale 15 minutes (and the skew) after its iat; its marker lives that long (epoch seconds). */
  private replayMarkerExpiry(set: VerifiedSet): number {
    return set.iat + SET_MAX_AGE_SECONDS + this.config.security.clockSkewSeconds;
  }

  private remember(connection: ConnectionEntity, set: VerifiedSet): void {
    const ttl = this.replayMarkerExpiry(set) * 1000 - Date.now();
    if (ttl > 0) this.usedJtis.set(jtiKey(connection, set), true, { ttl });
  }

  /** SPEC §8: 503 with Retry-After when the SET cannot be recorded; nothing half-done (one transaction). */
  private async unlessDatabaseDown<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof SsfException) throw err;
      // A query the database refused for what it says (not for an outage) is a bug: a 500.
      if (err instanceof QueryFailedError && !isTransient(err)) throw err;
      this.log.error(`a Security Event Token could not be recorded: ${(err as Error).message}`);
      throw new SsfException(503, 'temporarily_unavailable', 'the SET could not be recorded; retry later', 5);
    }
  }
}

interface Plan {
  outcome: SecurityEventOutcome;
  /** The logout to record, if the event asks for one and names users. */
  request: LogoutRequested | null;
  subject?: Subject;
  log: LogEventInput;
}

/** SPEC §9: what one verified SET does, given the users its subject names, and how it is logged. */
function plan({ connection, ssf, set, event, origin }: Acceptance, userIds: string[]): Plan {
  const base = {
    connection: connection.name,
    connection_id: connection.id,
    ip: origin.ip ?? null,
    user_agent: origin.user_agent ?? null,
    hostname: origin.hostname ?? null,
  };
  const about = { event_type: event.type, jti: set.jti };
  switch (event.kind) {
    case 'verification':
      return {
        outcome: { kind: 'verification', jti: set.jti, state: event.state },
        request: null,
        log: { ...base, type: 'ssf_event_accepted', description: 'SSF verification event received', details: { ...about, state: event.state } },
      };
    case 'stream-updated':
      return {
        outcome: { kind: 'stream-updated', jti: set.jti, status: event.status },
        request: null,
        log: {
          ...base,
          type: 'ssf_event_accepted',
          description: `SSF stream status changed to ${event.status}`,
          details: { ...about, status: event.status, reason: event.reason },
        },
      };
    case 'other':
      return {
        outcome: { kind: 'ignored', eventType: event.type, jti: set.jti },
        request: null,
        log: {
          ...base,
          type: 'ssf_event_ignored',
          description: 'Security Event Token of a type this service does not act on, ignored',
          details: { ...about, reason: 'event_type_not_supported' },
        },
      };
    case 'session-revoked':
    case 'credential-change': {
      const decided = actionFor(event.kind, ssf.actions);
      const details = {
        ...about,
        action: decided.action,
        subject: event.subject,
        ...(event.kind === 'credential-change' ? { credential_type: event.credentialType, change_type: event.changeType } : {}),
      };
      if (userIds.length === 0) {
        return {
          outcome: { kind: 'no-user', event: event.kind, jti: set.jti },
          request: null,
          subject: event.subject,
          log: {
            ...base,
            type: 'ssf_event_ignored',
            description: `CAEP ${event.kind} event for no user of the connection, ignored`,
            details: { ...details, reason: 'no_user' },
          },
        };
      }
      if (decided.action === 'log-only') {
        return {
          outcome: { kind: 'logged', event: 'credential-change', jti: set.jti, userIds },
          request: null,
          subject: event.subject,
          log: {
            ...base,
            type: 'ssf_event_accepted',
            description: 'CAEP credential-change event accepted, logged only',
            user_id: userIds[0],
            details: { ...details, user_ids: userIds },
          },
        };
      }
      const { action, logout } = decided;
      const requestId = randomUUID();
      return {
        outcome: { kind: 'logout-requested', event: event.kind, jti: set.jti, action, requestId, userIds },
        request: {
          requestId,
          initiator: logout.initiator,
          userIds,
          connection: { id: connection.id, name: connection.name },
          sessions: logout.sessions,
          refreshTokens: logout.refreshTokens,
          acceptedAt: new Date().toISOString(),
        },
        subject: event.subject,
        log: {
          ...base,
          type: 'ssf_event_accepted',
          description: `CAEP ${event.kind} event accepted: ${action === 'logout' ? 'logout' : 'refresh token revocation'} requested`,
          user_id: userIds[0],
          details: { ...details, request_id: requestId, initiator: logout.initiator, user_ids: userIds },
        },
      };
    }
  }
}

const jtiKey = (connection: ConnectionEntity, set: VerifiedSet) => `${connection.id}\u0000${set.jti}`;
const replayed = () => setInvalid('jti has already been used');

/** RFC 8935 §2.4: a key or signature the receiver cannot accept is `invalid_key`; a malformed SET `invalid_request`. */
function verificationFailure(err: unknown): SsfException {
  if (err instanceof SsfException) return err;
  if (err instanceof KeysUnavailableException) return setKeyInvalid("the transmitter's keys could not be obtained");
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return setKeyInvalid('signature verification failed');
  if (err instanceof joseErrors.JWKSNoMatchingKey) return setKeyInvalid('no key of the transmitter matches the SET');
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys) return setKeyInvalid('several keys of the transmitter match the SET; a kid is required');
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return setKeyInvalid('alg is not allowed');
  if (err instanceof joseErrors.JOSENotSupported) return setKeyInvalid('the SET uses an unsupported algorithm or key');
  if (err instanceof joseErrors.JWTExpired) return setInvalid('the SET has expired (exp)');
  if (err instanceof joseErrors.JWTClaimValidationFailed) return setInvalid(`claim "${err.claim}" is invalid: ${err.reason}`);
  return setInvalid('the SET is malformed');
}
