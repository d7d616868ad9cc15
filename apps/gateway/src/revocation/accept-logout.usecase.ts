import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, JWTPayload, ProtectedHeaderParameters } from 'jose';
import { LRUCache } from 'lru-cache';
import { DataSource, QueryFailedError } from 'typeorm';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import { LogoutRequested } from '@ulo/contracts';
import { isTransient } from '@ulo/resilience';
import { OutboxRelay } from '@ulo/messaging';
import { ConnectionEntity, GroupCommit, type RequestOrigin } from '@ulo/persistence';
import { universalLogoutEnabled } from '../connections/connection-options.policy';
import { revocationPath } from '../connections/revocation-path';
import { AcceptedLogouts } from '../logouts/accepted-logouts';
import { ConnectionDirectory } from './connection-directory';
import { ConnectionRateLimiter } from './connection-rate-limiter';
import { GtrException, invalidToken, notFound, rateLimited } from './gtr.exception';
import { IdpKeysService, KEYS_UNAVAILABLE } from './idp-keys.service';
import { RejectionLog } from './rejection-log';
import { RevocationAttempt } from './revocation-attempt';
import { SeenJtiRepository } from './seen-jti.repository';
import { parseRevocationBody, type Subject } from './subject';
import { SubjectResolverRepository } from './subject-resolver.repository';
import { ASYMMETRIC_ALGS, checkClaims, checkHeader } from './token-rules';
import { UnverifiedTrafficLimiter } from './unverified-traffic-limiter';

/** Used jtis this instance remembers, so that replays of one captured token cost no query and no rate-limit token. */
const MAX_REMEMBERED_JTIS = 10_000;

type VerifiedClaims = JWTPayload & { jti: string; exp: number };

/** A verified request on its way into a group commit. */
interface Acceptance {
  connection: ConnectionEntity;
  claims: VerifiedClaims;
  subject: Subject;
  origin: RequestOrigin;
}

type AcceptanceOutcome = { kind: 'accepted'; requestId: string; userIds: string[] } | { kind: 'no-user' } | { kind: 'replayed' };

/**
 * SPEC §2: validates a Global Token Revocation request completely, then records it durably — the
 * replay marker, the request and its `logout-requested` event in one PostgreSQL transaction (a
 * transactional outbox) — before the 204. The checks run in this order, each answering one status:
 *
 *  1. the unverified-traffic limits of the request's source and of all sources     429
 *  2. the connection named in the URL (a name no connection can have: no query)    404
 *  3. Universal Logout enabled on it                                               403
 *  4. the body: JSON (415, 413, 400), depth, the subject (SPEC §2 formats)         400
 *  5. the token: header rules, key, signature, claims, jti not known used          401
 *     — from here on the request is authenticated: it costs the unverified limits nothing
 *  6. the connection's rate limit (GTR_RATE_LIMIT_*), verified requests only       429
 *  7. the user; the jti is used up whatever the answer                             404 / 401 replay
 *  8. the request and its event recorded with the jti                              204 / 401 replay
 *     — 7 and 8 for all the verified requests that arrive together, in one commit
 *
 * A rejected request changes nothing but the log (and, from step 7, the replay store).
 */
@Injectable()
export class AcceptLogout {
  private readonly log = new Logger(AcceptLogout.name);
  private readonly usedJtis = new LRUCache<string, true>({ max: MAX_REMEMBERED_JTIS });
  private readonly acceptances = new GroupCommit<Acceptance, AcceptanceOutcome>((batch) => this.acceptTogether(batch), 256, 2);

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionDirectory,
    private readonly unverified: UnverifiedTrafficLimiter,
    private readonly rateLimiter: ConnectionRateLimiter,
    private readonly keys: IdpKeysService,
    private readonly subjects: SubjectResolverRepository,
    private readonly seenJtis: SeenJtiRepository,
    private readonly logouts: AcceptedLogouts,
    private readonly relay: OutboxRelay,
    private readonly rejections: RejectionLog,
  ) {}

  async execute(attempt: RevocationAttempt): Promise<{ requestId: string; userIds: string[] }> {
    this.admit(attempt);
    const connection = await this.connectionOf(attempt);
    const subject = parseRevocationBody(await attempt.readBody());
    const claims = await this.verifyToken(connection, attempt.bearer);
    attempt.verified = true;
    this.unverified.verified(attempt.source);

    const wait = this.rateLimiter.take(connection.id);
    if (wait > 0) throw rateLimited('too many revocation requests for this connection', wait);
    const outcome = await this.unlessDatabaseDown(() => this.acceptances.submit({ connection, claims, subject, origin: attempt.origin }));
    // Used up whatever the answer (by this request or an earlier one); a 503 above used up nothing.
    this.remember(connection, claims);
    if (outcome.kind === 'replayed') throw replayed();
    if (outcome.kind === 'no-user') throw notFound('no user matches the subject');
    return { requestId: outcome.requestId, userIds: outcome.userIds };
  }

  /**
   * SPEC §5: `universal_logout_failed` for each rejected request, within the log budget (RejectionLog).
   * A request that ended without a verified token is charged to the unverified-traffic limits; a
   * 503 is ours, not the caller's, and costs it nothing.
   */
  async recordRejection(attempt: RevocationAttempt, err: GtrException): Promise<void> {
    if (err.status === 503) return;
    if (!attempt.verified) this.unverified.failed(attempt.source);
    await this.rejections.record(attempt, err);
  }

  // 1. SPEC §2 "Hostile traffic": junk is limited before any work, per source and overall.
  private admit(attempt: RevocationAttempt): void {
    const refused = this.unverified.admit(attempt.source);
    if (!refused) return;
    // Logged against the connection it names, if that is known without a query.
    attempt.connection = this.connections.lastKnown(attempt.connectionName);
    throw rateLimited(
      refused.scope === 'source' ? 'too many unauthenticated requests from this address' : 'too many unauthenticated requests',
      refused.wait,
    );
  }

  // 2-3. SPEC §2: the connection in the URL exists and has Universal Logout enabled.
  private async connectionOf(attempt: RevocationAttempt): Promise<ConnectionEntity> {
    const connection = await this.unlessDatabaseDown(() => this.connections.find(attempt.connectionName));
    if (!connection) throw notFound('unknown connection');
    attempt.connection = connection;
    if (!universalLogoutEnabled(connection.strategy, connection.options)) {
      throw new GtrException(403, 'access_denied', `Universal Logout is not enabled on connection "${connection.name}"`);
    }
    return connection;
  }

  // 5. SPEC §2.1-2.5.
  private async verifyToken(connection: ConnectionEntity, bearer: string | null): Promise<VerifiedClaims> {
    if (!bearer) throw invalidToken('a bearer token is required');
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(bearer);
    } catch {
      throw invalidToken('the bearer token is not a JWT');
    }
    checkHeader(header);
    const anchor = await this.keys.anchorFor(connection);
    let payload: JWTPayload;
    try {
      const verified = await jwtVerify(bearer, anchor.key as never, {
        algorithms: ASYMMETRIC_ALGS,
        clockTolerance: this.config.security.clockSkewSeconds,
      });
      payload = verified.payload;
    } catch (err) {
      throw invalidToken(describeJoseError(err));
    }
    checkClaims(payload, {
      issuer: anchor.issuer,
      subject: anchor.subject,
      audience: `${this.config.publicBaseUrl}${revocationPath(connection.name)}`,
      clockSkewSeconds: this.config.security.clockSkewSeconds,
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    const claims = payload as VerifiedClaims;
    // SPEC §2.5: a replay this instance has already seen is refused here, before it can spend the
    // connection's rate limit; the database (steps 7-8) refuses the others.
    if (this.usedJtis.has(jtiKey(connection, claims))) throw replayed();
    return claims;
  }

  /**
   * 7-8. The verified requests that arrive together, in one go (a group commit): their subjects
   * resolved in one statement, then one transaction that uses up every jti (SPEC §2.5: whatever
   * the answer) and records each request whose jti was fresh and whose subject names users, with
   * its event. A replayed jti records nothing; every 204 waits for the commit that holds its request.
   */
  private async acceptTogether(batch: Acceptance[]): Promise<AcceptanceOutcome[]> {
    const users = await this.subjects.resolve(batch.map(({ connection, subject }) => ({ connection, subject })));
    const requests = batch.map(({ connection }, i): LogoutRequested | null =>
      users[i].length === 0
        ? null
        : {
            requestId: randomUUID(),
            initiator: 'idp-logout',
            userIds: users[i],
            connection: { id: connection.id, name: connection.name },
            sessions: { mode: 'all' },
            refreshTokens: { mode: 'all' },
            acceptedAt: new Date().toISOString(),
          },
    );
    const fresh = await this.dataSource.transaction(async (tx) => {
      const used = await this.seenJtis.useUp(
        tx,
        batch.map(({ connection, claims }) => ({ connectionId: connection.id, jti: claims.jti, expiresAt: this.replayMarkerExpiry(claims) })),
      );
      await this.logouts.record(
        tx,
        batch.flatMap((item, i) => (used[i] && requests[i] ? [{ request: requests[i], origin: item.origin, subject: item.subject }] : [])),
      );
      return used;
    });
    const outcomes = batch.map((_, i): AcceptanceOutcome => {
      const request = requests[i];
      if (!fresh[i]) return { kind: 'replayed' };
      return request ? { kind: 'accepted', requestId: request.requestId, userIds: request.userIds } : { kind: 'no-user' };
    });
    const accepted = outcomes.filter((o) => o.kind === 'accepted').length;
    if (accepted > 0) this.relay.kick();
    this.log.debug(`accepted ${accepted} of ${batch.length} verified revocation request(s) in one commit`);
    return outcomes;
  }

  /** SPEC §2.5: the marker lives as long as the token could be valid: its own exp plus the skew (seconds). */
  private replayMarkerExpiry(claims: VerifiedClaims): number {
    return claims.exp + this.config.security.clockSkewSeconds;
  }

  private remember(connection: ConnectionEntity, claims: VerifiedClaims): void {
    const ttl = this.replayMarkerExpiry(claims) * 1000 - Date.now();
    if (ttl > 0) this.usedJtis.set(jtiKey(connection, claims), true, { ttl });
  }

  /** SPEC §2: 503 with Retry-After when the request cannot be recorded; nothing half-done (one transaction). */
  private async unlessDatabaseDown<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof GtrException) throw err;
      // A query the database refused for what it says (not for an outage) is a bug: a 500.
      if (err instanceof QueryFailedError && !isTransient(err)) throw err;
      this.log.error(`revocation could not be recorded: ${(err as Error).message}`);
      throw new GtrException(503, 'temporarily_unavailable', 'the request could not be recorded; retry later', 5);
    }
  }
}

const jtiKey = (connection: ConnectionEntity, claims: VerifiedClaims) => `${connection.id}\u0000${claims.jti}`;
const replayed = () => invalidToken('jti has already been used');

/** The 401 description of a failed verification; every failure to obtain keys reads the same (IdpKeysService logs the detail). */
function describeJoseError(err: unknown): string {
  if (err instanceof GtrException) return err.description;
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `claim "${err.claim}" is invalid: ${err.reason}`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the identity provider matches the token';
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys) return 'several keys match the token; a kid is required';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'alg is not allowed';
  if (err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWSInvalid) return 'the bearer token is malformed';
  if (err instanceof joseErrors.JOSENotSupported) return 'the token uses an unsupported algorithm or key';
  return KEYS_UNAVAILABLE;
}
