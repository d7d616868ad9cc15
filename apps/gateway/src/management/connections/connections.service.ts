import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import { ConnectionEntity, type StoredSsfOptions } from '@ulo/persistence';
import { SealedFor, encryptSecretAsync } from '@ulo/security';
import { InvalidConnectionOptionsException, validateConnectionOptions } from '../../connections/connection-options.policy';
import { revocationPath } from '../../connections/revocation-path';
import { publicSsfOptions, ssfPushPath, storedSsfOptionsOf } from '../../connections/ssf-options';
import { InvalidSsfOptionsException, planSsfSecrets, type SecretPlan, type SsfOptionsInput } from '../../connections/ssf-options.policy';
import { newId } from '../ids';
import { findPage } from '../paging/checkpoint-page';
import { rethrowViolation } from '../pg-errors';
import { deleteOr404, findOr404 } from '../rows';
import { CreateConnectionDto, ListConnectionsQuery, UpdateConnectionDto } from './connection.dto';

export interface ConnectionView {
  id: string;
  name: string;
  strategy: string;
  /** `ssf` without its secrets (SPEC §6, §9): `push_authorization_set`, `client_secret_set`. */
  options: Record<string, unknown>;
  revocation_endpoint_url: string;
  /** SPEC §9: where the connection's SSF transmitter pushes; only when `options.ssf` is set. */
  ssf_push_endpoint_url?: string;
}

@Injectable()
export class ConnectionsService {
  constructor(
    @InjectRepository(ConnectionEntity) private readonly connections: Repository<ConnectionEntity>,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {}

  view(c: ConnectionEntity): ConnectionView {
    const { ssf: _stored, ...options } = c.options;
    const ssf = storedSsfOptionsOf(c.options);
    return {
      id: c.id,
      name: c.name,
      strategy: c.strategy,
      options: ssf ? { ...options, ssf: publicSsfOptions(ssf) } : options,
      revocation_endpoint_url: `${this.config.publicBaseUrl}${revocationPath(c.name)}`,
      ...(ssf ? { ssf_push_endpoint_url: `${this.config.publicBaseUrl}${ssfPushPath(c.name)}` } : {}),
    };
  }

  async create(dto: CreateConnectionDto): Promise<ConnectionView> {
    // The id first: the sealed SSF secrets are bound to their connection.
    const id = newId('con');
    const options = await this.sealedOptions(id, this.validOptions(dto.strategy, dto.options ?? {}), null);
    try {
      const saved = await this.connections.save(this.connections.create({ id, name: dto.name, strategy: dto.strategy, options }));
      return this.view(saved);
    } catch (err) {
      rethrowViolation(err, { unique: `A connection named "${dto.name}" already exists` });
    }
  }

  async list(query: ListConnectionsQuery) {
    return findPage(this.connections, query, {
      name: 'connections',
      where: {
        ...(query.strategy ? { strategy: query.strategy } : {}),
        ...(query.name ? { name: query.name } : {}),
      },
      view: (r) => this.view(r),
    });
  }

  async get(id: string): Promise<ConnectionView> {
    return this.view(await this.find(id));
  }

  async update(id: string, dto: UpdateConnectionDto): Promise<ConnectionView> {
    const existing = await this.find(id);
    if (dto.options !== undefined) {
      const options = this.validOptions(existing.strategy, dto.options);
      existing.options = await this.sealedOptions(existing.id, options, storedSsfOptionsOf(existing.options));
    }
    return this.view(await this.connections.save(existing));
  }

  /**
   * Its identities go with it (ON DELETE CASCADE), so a later connection with the same name inherits
   * nobody. Their users stay: the Management API reaches them, the revocation endpoint only through
   * an identity at another connection.
   */
  async remove(id: string): Promise<void> {
    await deleteOr404(this.connections, { id }, `No connection with id ${id}`);
  }

  private find(id: string): Promise<ConnectionEntity> {
    return findOr404(this.connections, { id }, `No connection with id ${id}`);
  }

  /**
   * The options as stored: `ssf`'s secrets sealed, or kept sealed as stored (planSsfSecrets:
   * SPEC §6, a new issuer needs them again). The options replace the stored ones: no `ssf`, none.
   */
  private async sealedOptions(connectionId: string, options: Record<string, unknown>, stored: StoredSsfOptions | null) {
    if (options.ssf === undefined) return options;
    const given = options.ssf as SsfOptionsInput;
    let plan;
    try {
      plan = planSsfSecrets(given, stored);
    } catch (err) {
      if (err instanceof InvalidSsfOptionsException) throw new BadRequestException(err.message);
      throw err;
    }
    const sealed = (secret: SecretPlan, purpose: string) =>
      'keep' in secret ? Promise.resolve(secret.keep) : encryptSecretAsync(secret.seal, this.config.security.signingKeyEncryptionSecret, purpose);
    const ssf: StoredSsfOptions = {
      issuer: given.issuer,
      audience: given.audience,
      push_authorization_sealed: await sealed(plan.pushAuthorization, SealedFor.connectionSsfPushAuthorization(connectionId)),
      ...(plan.clientSecret
        ? {
            client_id: given.client_id,
            client_secret_sealed: await sealed(plan.clientSecret, SealedFor.connectionSsfClientSecret(connectionId)),
          }
        : {}),
      actions: given.actions,
      ...(given.delivery === 'poll' ? { delivery: 'poll' as const } : {}),
      // The stream created at the transmitter (ssf-stream) stays while the transmitter and the delivery method do.
      ...(stored?.stream_id !== undefined && stored.issuer === given.issuer && (stored.delivery ?? 'push') === given.delivery
        ? { stream_id: stored.stream_id, ...(stored.poll_endpoint !== undefined ? { poll_endpoint: stored.poll_endpoint } : {}) }
        : {}),
    };
    return { ...options, ssf };
  }

  private validOptions(strategy: ConnectionEntity['strategy'], options: Record<string, unknown>) {
    try {
      return validateConnectionOptions(strategy, options, this.config.security.allowPrivateNetworkUrls);
    } catch (err) {
      if (err instanceof InvalidConnectionOptionsException) throw new BadRequestException(err.message);
      throw err;
    }
  }
}
