import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { MoreThan, Repository } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@ulo/config';
import { ClientEntity, OidcLogoutSettings } from '@ulo/persistence';
import { UnsafeUrlException, assertSafeUrlSyntax } from '@ulo/security';
import { newId } from '../ids';
import { CheckpointQuery, DEFAULT_TAKE, toPage } from '../paging/checkpoint-page';
import { CreateClientDto, OidcLogoutDto, UpdateClientDto, defaultInitiators } from './client.dto';

export interface ClientView {
  client_id: string;
  name: string;
  oidc_logout?: OidcLogoutSettings;
}

const UNIQUE_VIOLATION = '23505';

/** Auth0 client ids are 32 alphanumeric characters, without a prefix. */
const newClientId = (): string => newId('cli', 32).slice('cli_'.length);

@Injectable()
export class ClientsService {
  constructor(
    @InjectRepository(ClientEntity) private readonly clients: Repository<ClientEntity>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  view(c: ClientEntity): ClientView {
    return { client_id: c.clientId, name: c.name, ...(c.oidcLogout ? { oidc_logout: c.oidcLogout } : {}) };
  }

  async create(dto: CreateClientDto): Promise<ClientView> {
    const clientId = dto.client_id ?? newClientId();
    const oidcLogout = dto.oidc_logout ? this.validOidcLogout(dto.oidc_logout) : null;
    try {
      // insert, not save: save would silently overwrite a client that already has this id.
      await this.clients.insert({ clientId, name: dto.name, oidcLogout });
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) {
        throw new ConflictException(`A client with client_id "${clientId}" already exists`);
      }
      throw err;
    }
    return this.get(clientId);
  }

  async list(query: CheckpointQuery) {
    const take = query.take ?? DEFAULT_TAKE;
    const rows = await this.clients.find({
      where: query.from ? { clientId: MoreThan(query.from) } : {},
      order: { clientId: 'ASC' },
      take: take + 1,
    });
    return toPage(
      'clients',
      rows,
      take,
      (r) => r.clientId,
      (r) => this.view(r),
    );
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
    const result = await this.clients.delete({ clientId });
    if (!result.affected) throw new NotFoundException(`No client with client_id ${clientId}`);
  }

  private async find(clientId: string): Promise<ClientEntity> {
    const found = await this.clients.findOneBy({ clientId });
    if (!found) throw new NotFoundException(`No client with client_id ${clientId}`);
    return found;
  }

  /** SPEC §4 URL rules on the back-channel URL; the initiators default to Auth0's. */
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
        : { ...defaultInitiators, selected_initiators: [...defaultInitiators.selected_initiators] },
    };
  }
}
