import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { randomBytes } from 'node:crypto';
import { ConnectionEntity, normalizeEmail, UserEntity, UserIdentityEntity } from '@ulo/persistence';
import { rethrowViolation } from '../pg-errors';
import { deleteOr404 } from '../rows';
import { CreateUserDto } from './user.dto';

export interface UserView {
  user_id: string;
  email?: string;
  identities: { connection: string; provider_user_id: string; issuer: string }[];
  created_at: Date;
}

const IDENTITY_UNIQUE = 'uq_identity_connection_issuer_sub';

/** Shaped like Auth0's database users: `auth0|` + 24 hex digits. */
const newUserId = (): string => `auth0|${randomBytes(12).toString('hex')}`;

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    @InjectRepository(ConnectionEntity) private readonly connections: Repository<ConnectionEntity>,
  ) {}

  view(u: UserEntity): UserView {
    const identities = [...(u.identities ?? [])].sort((a, b) => Number(a.id) - Number(b.id));
    return {
      user_id: u.userId,
      ...(u.email !== null ? { email: u.email } : {}),
      identities: identities.map((i) => ({
        connection: i.connection.name,
        provider_user_id: i.providerUserId,
        issuer: i.issuer,
      })),
      created_at: u.createdAt,
    };
  }

  async create(dto: CreateUserDto): Promise<UserView> {
    const userId = dto.user_id ?? newUserId();
    const identities = dto.identities ?? [];
    const emailNormalized = dto.email === undefined ? null : normalizeEmail(dto.email);
    if (dto.email !== undefined && emailNormalized === null) {
      throw new BadRequestException('email must be an email address with a valid domain name');
    }
    const connectionIds = await this.connectionIdsByName(identities.map((i) => i.connection));
    try {
      await this.users.manager.transaction(async (m) => {
        await m.insert(UserEntity, { userId, email: dto.email ?? null });
        if (identities.length === 0) return;
        // The email is kept on each identity: GTR `email` subjects are looked up per connection.
        await m.insert(
          UserIdentityEntity,
          identities.map((i) => ({
            userId,
            connectionId: connectionIds.get(i.connection),
            providerUserId: i.provider_user_id,
            issuer: i.issuer,
            email: dto.email ?? null,
            emailNormalized,
          })),
        );
      });
    } catch (err) {
      rethrowViolation(err, {
        unique:
          (err as { constraint?: string }).constraint === IDENTITY_UNIQUE
            ? 'An identity with this connection, issuer and provider_user_id already exists'
            : `A user with user_id "${userId}" already exists`,
        // The connection was deleted since it was looked up.
        foreignKey: 'an identity names a connection that no longer exists',
      });
    }
    return this.get(userId);
  }

  async get(userId: string): Promise<UserView> {
    const found = await this.users.findOne({ where: { userId }, relations: { identities: { connection: true } } });
    if (!found) throw new NotFoundException(`No user with user_id ${userId}`);
    return this.view(found);
  }

  /** 404 unless a user has this user_id. */
  async assertExists(userId: string): Promise<void> {
    if (!(await this.users.existsBy({ userId }))) throw new NotFoundException(`No user with user_id ${userId}`);
  }

  /** Identities, sessions and refresh tokens go with the user (ON DELETE CASCADE). */
  async remove(userId: string): Promise<void> {
    await deleteOr404(this.users, { userId }, `No user with user_id ${userId}`);
  }

  /** The id of each named connection; 400 naming the first identity whose connection does not exist. */
  private async connectionIdsByName(names: string[]): Promise<Map<string, string>> {
    if (names.length === 0) return new Map();
    const found = await this.connections.find({ select: { id: true, name: true }, where: { name: In(names) } });
    const ids = new Map(found.map((c) => [c.name, c.id]));
    const index = names.findIndex((n) => !ids.has(n));
    if (index >= 0) {
      throw new BadRequestException(
        `identities[${index}].connection "${names[index]}" is not the name of a connection`,
      );
    }
    return ids;
  }
}
