import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import { ClientEntity, OidcLogoutSettings } from '@ulo/persistence';
import { UnsafeUrlException, assertSafeUrlSyntax } from '@ulo/security';
import { randomId } from '../ids';
import { CheckpointQuery, findPage } from '../paging/checkpoint-page';
import { rethrowViolation } from '../pg-errors';
import { deleteOr404, findOr404 } from '../rows';
import { DEFAULT_SELECTED_INITIATORS, DEFAULT_SIGNING_ALGORITHM } from '@ulo/contracts';
import { CreateClientDto, OidcLogoutDto, UpdateClientDto } from './client.dto';

export interface ClientView {
  client_id: string;
  name: string;
  oidc_logout?: OidcLogoutSettings;
}

/** Auth0 client ids are 32 alphanumeric characters, without a prefix. */
const newClientId = (): string => randomId(32);

@Injectable()
export class ClientsService {
  constructor(
    @InjectRepository(ClientEntity) private readonly clients: Repository<ClientEntity>,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** The settings with their defaults written out, also for clients stored before a setting existed. */
  view(c: ClientEntity): ClientView {
    if (!c.oidcLogout) return { client_id: c.clientId, name: c.name };
    const { backchannel_logout_session_required = true, backchannel_logout_signing_alg = DEFAULT_SIGNING_ALGORITHM } = c.oidcLogout;
    return { client_id: c.clientId, name: c.name, oidc_logout: { ...c.oidcLogout, backchannel_logout_session_required, backchannel_logout_signing_alg } };
  }

  async create(dto: CreateClientDto): Promise<ClientView> {
    const clientId = dto.client_id ?? newClientId();
    const oidcLogout = dto.oidc_logout ? this.validOidcLogout(dto.oidc_logout) : null;
    try {
      // insert, not save: save would silently overwrite a client that already has this id.
      await this.clients.insert({ clientId, name: dto.name, oidcLogout });
    } catch (err) {
      rethrowViolation(err, { unique: `A client with client_id "${clientId}" already exists` });
    }
    return this.get(clientId);
  }

  async list(query: CheckpointQuery) {
    return findPage(this.clients, query, { name: 'clients', key: 'clientId', view: (r) => this.view(r) });
  }

  async get(clientId: string): Promise<ClientView> {
    return this.view(await this.find(clientId));
  }

  async update(clientId: string, dto: UpdateClientDto): Promise<ClientView> {
    const existing = await this.find(clientId);
    if (dto.name !== undefined) existing.name = dto.name;
    if (dto.oidc_logout !== undefined) {
      existing.oidcLogout = dto.oidc_logout ? this.validOidcLogout(dto.oidc_logout) : null;
    }
    return this.view(await this.clients.save(existing));
  }

  async remove(clientId: string): Promise<void> {
    await deleteOr404(this.clients, { clientId }, `No client with client_id ${clientId}`);
  }

  private find(clientId: string): Promise<ClientEntity> {
    return findOr404(this.clients, { clientId }, `No client with client_id ${clientId}`);
  }

  /** SPEC §4 URL rules on the back-channel URL; the initiators default to Auth0's, a token per session, RS256. */
  private validOidcLogout(dto: OidcLogoutDto): OidcLogoutSettings {
    const [url] = dto.backchannel_logout_urls;
    try {
      assertSafeUrlSyntax(url, this.config.security.allowPrivateNetworkUrls);
    } catch (err) {
      if (err instanceof UnsafeUrlException) {
        throw new BadRequestException(`oidc_logout.backchannel_logout_urls[0] ${err.message}`);
      }
      throw err;
    }
    const initiators = dto.backchannel_logout_initiators;
    return {
      backchannel_logout_urls: [url],
      backchannel_logout_initiators: initiators
        ? { mode: initiators.mode, selected_initiators: initiators.selected_initiators ?? [] }
        : { mode: 'custom', selected_initiators: [...DEFAULT_SELECTED_INITIATORS] },
      backchannel_logout_session_required: dto.backchannel_logout_session_required ?? true,
      backchannel_logout_signing_alg: dto.backchannel_logout_signing_alg ?? DEFAULT_SIGNING_ALGORITHM,
    };
  }
}
