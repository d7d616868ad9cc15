import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import { ConnectionEntity } from '@ulo/persistence';
import { InvalidConnectionOptionsException, validateConnectionOptions } from '../../connections/connection-options.policy';
import { revocationPath } from '../../connections/revocation-path';
import { newId } from '../ids';
import { findPage } from '../paging/checkpoint-page';
import { rethrowViolation } from '../pg-errors';
import { deleteOr404, findOr404 } from '../rows';
import { CreateConnectionDto, ListConnectionsQuery, UpdateConnectionDto } from './connection.dto';

export interface ConnectionView {
  id: string;
  name: string;
  strategy: string;
  options: Record<string, unknown>;
  revocation_endpoint_url: string;
}

@Injectable()
export class ConnectionsService {
  constructor(
    @InjectRepository(ConnectionEntity) private readonly connections: Repository<ConnectionEntity>,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {}

  view(c: ConnectionEntity): ConnectionView {
    return {
      id: c.id,
      name: c.name,
      strategy: c.strategy,
      options: c.options,
      revocation_endpoint_url: `${this.config.publicBaseUrl}${revocationPath(c.name)}`,
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
    if (dto.options !== undefined) existing.options = this.validOptions(existing.strategy, dto.options);
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

  private validOptions(strategy: ConnectionEntity['strategy'], options: Record<string, unknown>) {
    try {
      return validateConnectionOptions(strategy, options, this.config.security.allowPrivateNetworkUrls);
    } catch (err) {
      if (err instanceof InvalidConnectionOptionsException) throw new BadRequestException(err.message);
      throw err;
    }
  }
}
