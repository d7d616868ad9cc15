import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, JWTPayload, ProtectedHeaderParameters } from 'jose';
import { DataSource, QueryFailedError } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@ulo/config';
import { LogoutRequested, Topics } from '@ulo/contracts';
import { isTransient } from '@ulo/resilience';
import { LogEventRecorder, OutboxRelay, OutboxWriter } from '@ulo/messaging';
import { ConnectionEntity } from '@ulo/persistence';
import { universalLogoutEnabled } from '../management/connections/connection-options.policy';
import { GtrException, invalidToken } from './gtr.exception';
import { IdpKeysService } from './idp-keys.service';
import { revocationPath } from './revocation-path';
import { Subject } from './subject';
import { SubjectResolverRepository } from './subject-resolver.repository';
import { ASYMMETRIC_ALGS, checkClaims, checkHeader } from './token-rules';

export interface RevocationCommand {
  connectionName: string;
  bearer: string | null;
  subject: Subject;
  origin: { ip?: string; user_agent?: string; hostname?: string };
}

const CONNECTION_CACHE_MS = 1000;

/**
 * SPEC §2: validates a Global Token Revocation request completely, then records it durably —
 * the replay marker, the request and its `logout-requested` event in one PostgreSQL transaction
 * (a transactional outbox) — before the 204. Nothing is changed for a rejected request.
 */
@Injectable()
export class AcceptLogout {
  private readonly log = new Logger(AcceptLogout.name);
  private readonly connections = new Map<string, { connection: ConnectionEntity | null; until: number }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly keys: IdpKeysService,
    private readonly subjects: SubjectResolverRepository,
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
    private readonly logs: LogEventRecorder,
  ) {}

  /**
   * Connections are read at most once a second per name and instance: the hot path of a logout
   * storm does not re-read a row that changes rarely (a change applies within the second).
   */
  private async findConnection(name: string): Promise<ConnectionEntity> {
    const cached = this.connections.get(name);
    if (cached && cached.until > Date.now()) return this.found(name, cached.connection);
    const connection = await this.unlessDatabaseDown(() =>
      this.dataSource.getRepository(ConnectionEntity).findOneBy({ name }),
    );
    if (this.connections.size > 10_000) this.connections.clear();
    this.connections.set(name, { connection, until: Date.now() + CONNECTION_CACHE_MS });
    return this.found(name, connection);
  }

  private found(name: string, connection: ConnectionEntity | null): ConnectionEntity {
    if (!connection) throw new GtrException(404, 'not_found', `unknown connection "${name}"`);
    return connection;
  }

  async execute(command: RevocationCommand): Promise<{ requestId: string; userIds: string[] }> {
    const connection = await this.findConnection(command.connectionName);
    if (!universalLogoutEnabled(connection.strategy, connection.options)) {
      throw new GtrException(403, 'access_denied', `Universal Logout is not enabled on connection "${connection.name}"`);
    }
    const claims = await this.verifyToken(connection, command.bearer);
    const userIds = await this.unlessDatabaseDown(() => this.subjects.resolve(connection, command.subject));
    if (userIds.length === 0) throw new GtrException(404, 'not_found', 'no user matches the subject');

    const requestId = randomUUID();
    const event: LogoutRequested = {
      requestId,
      initiator: 'idp-logout',
      userIds,
      connection: { id: connection.id, name: connection.name },
      sessions: { mode: 'all' },
      refreshTokens: { mode: 'all' },
      acceptedAt: new Date().toISOString(),
    };
    const message = this.outbox.event(Topics.logoutRequested, userIds[0], requestId, event);
    // One statement, so one round trip and atomic without BEGIN/COMMIT: the replay marker
    // (SPEC §2.5: a jti is accepted once per connection while the token could be valid), the
    // request and its event are all written, or — for a replayed jti — none of them.
    const recorded: { id: string }[] = await this.unlessDatabaseDown(() =>
      this.dataSource.query(
        `WITH fresh AS (
           INSERT INTO seen_jtis (connection_id, jti, expires_at) VALUES ($1, $2, to_timestamp($3))
           ON CONFLICT DO NOTHING RETURNING jti
         ), request AS (
           INSERT INTO logout_requests (id, initiator, connection_id, connection_name, user_ids, payload, origin)
           SELECT $4, 'idp-logout', $1, $5, $6, $7, $8 FROM fresh RETURNING id
         )
         INSERT INTO outbox (topic, message_key, value) SELECT $9, $10, $11 FROM request RETURNING id`,
        [
          connection.id,
          claims.jti,
          (claims.exp as number) + this.config.security.clockSkewSeconds,
          requestId,
          connection.name,
          userIds,
          JSON.stringify(event),
          JSON.stringify(command.origin),
          message.topic,
          message.key,
          message.value,
        ],
      ),
    );
    if (recorded.length === 0) throw invalidToken('jti has already been used');
    this.relay.kick();
    return { requestId, userIds };
  }

  /** SPEC §5: `universal_logout_failed` for each rejected request. Best effort: never turns a 4xx into a 5xx. */
  async recordRejection(command: Pick<RevocationCommand, 'connectionName' | 'origin'>, err: GtrException): Promise<void> {
    try {
      // One event, one statement: no transaction needed around it.
      await this.logs.record(this.dataSource.manager, [
        {
          type: 'universal_logout_failed',
          description: err.description,
          connection: command.connectionName,
          ip: command.origin.ip ?? null,
          user_agent: command.origin.user_agent ?? null,
          hostname: command.origin.hostname ?? null,
          details: { error: err.error, error_description: err.description, response: { statusCode: err.status } },
        },
      ]);
      this.relay.kick();
    } catch (e) {
      this.log.warn(`could not record a rejected revocation request: ${(e as Error).message}`);
    }
  }

  private async verifyToken(connection: ConnectionEntity, bearer: string | null): Promise<JWTPayload> {
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
    return payload;
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

function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `claim "${err.claim}" is invalid: ${err.reason}`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the identity provider matches the token';
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys) return 'several keys match the token; a kid is required';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'alg is not allowed';
  if (err instanceof joseErrors.JWKSTimeout) return 'the identity provider keys could not be fetched in time';
  if (err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWSInvalid) return 'the bearer token is malformed';
  if (err instanceof joseErrors.JOSEError) return `token rejected (${err.code})`;
  return 'the identity provider keys could not be obtained';
}
