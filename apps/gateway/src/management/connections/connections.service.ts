import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { MoreThan, Repository } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@ulo/config';
import { ConnectionEntity } from '@ulo/persistence';
import { newId } from '../ids';
import { DEFAULT_TAKE, toPage } from '../paging/checkpoint-page';
import { CreateConnectionDto, ListConnectionsQuery, UpdateConnectionDto } from './connection.dto';
import { InvalidConnectionOptionsException, validateConnectionOptions } from './connection-options.policy';

export interface ConnectionView {
  id: string;
  name: string;
  strategy: string;
  options: Record<string, unknown>;
  revocation_endpoint_url: string;
}

const UNIQUE_VIOLATION = '23505';

@Injectable()
export class ConnectionsService {
  constructor(
    @InjectRepository(ConnectionEntity) private readonly connections: Repository<ConnectionEntity>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  view(c: ConnectionEntity): ConnectionView {
    return {
      id: c.id,
      name: c.name,
      strategy: c.strategy,
      options: c.options,
      revocation_endpoint_url: `${this.config.publicBaseUrl}/oauth/global-token-revocation/connection/${encodeURIComponent(c.name)}`,
    };
  }

  async create(dto: CreateConnectionDto): Promise<ConnectionView> {
    const options = this.validOptions(dto.strategy, dto.options ?? {});
    try {
      const saved = await this.connections.save(
        this.connections.create({ id: newId('con'), name: dto.name, strategy: dto.strategy, options }),
      );
      return this.view(saved);
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) {
        throw new ConflictException(`A connection named "${dto.name}" already exists`);
      }
      throw err;
    }
  }

  async list(query: ListConnectionsQuery) {
    const take = query.take ?? DEFAULT_TAKE;
    const rows = await this.connections.find({
      where: {
        ...(query.strategy ? { strategy: query.strategy as ConnectionEntity['strategy'] } : {}),
        ...(query.name ? { name: query.name } : {}),
        ...(query.from ? { id: MoreThan(query.from) } : {}),
      },
      order: { id: 'ASC' },
      take: take + 1,
    });
    return toPage('connections', rows, take, (r) => r.id, (r) => this.view(r));
  }

  async get(id: string): Promise<ConnectionView> {
    return this.view(await this.find(id));
  }

  async update(id: string, dto: UpdateConnectionDto): Promise<ConnectionView> {
    const existing = await this.find(id);
    if (dto.options !== undefined) existing.options = this.validOptions(existing.strategy, dto.options);
    return this.view(await this.connections.save(existing));
  }

  async remove(id: string): Promise<void> {
    const result = await this.connections.delete({ id });
    if (!result.affected) throw new NotFoundException(`No connection with id ${id}`);
  }

  private async find(id: string): Promise<ConnectionEntity> {
    const found = await this.connections.findOneBy({ id });
    if (!found) throw new NotFoundException(`No connection with id ${id}`);
    return found;
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
