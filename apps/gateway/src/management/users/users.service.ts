import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { randomBytes } from 'node:crypto';
import { ConnectionEntity, UserEntity, UserIdentityEntity } from '@ulo/persistence';
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
        connection: i.connection,
        provider_user_id: i.providerUserId,
        issuer: i.issuer,
      })),
      created_at: u.createdAt,
    };
  }

  async create(dto: CreateUserDto): Promise<UserView> {
    const userId = dto.user_id ?? newUserId();
    const identities = dto.identities ?? [];
    await this.assertConnectionsExist(identities.map((i) => i.connection));
    try {
      await this.users.manager.transaction(async (m) => {
        await m.insert(UserEntity, { userId, email: dto.email ?? null });
        if (identities.length === 0) return;
        // The email is kept on each identity: GTR `email` subjects are looked up per connection.
        await m.insert(
          UserIdentityEntity,
          identities.map((i) => ({
            userId,
            connection: i.connection,
            providerUserId: i.provider_user_id,
            issuer: i.issuer,
            email: dto.email ?? null,
          })),
        );
      });
    } catch (err) {
      rethrowViolation(err, {
        unique:
          (err as { constraint?: string }).constraint === IDENTITY_UNIQUE
            ? 'An identity with this connection, issuer and provider_user_id already exists'
            : `A user with user_id "${userId}" already exists`,
      });
    }
    return this.get(userId);
  }

  async get(userId: string): Promise<UserView> {
    const found = await this.users.findOne({ where: { userId }, relations: { identities: true } });
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

  private async assertConnectionsExist(names: string[]): Promise<void> {
    if (names.length === 0) return;
    const known = new Set(
      (await this.connections.find({ select: { name: true }, where: { name: In(names) } })).map((c) => c.name),
    );
    const index = names.findIndex((n) => !known.has(n));
    if (index >= 0) {
      throw new BadRequestException(
        `identities[${index}].connection "${names[index]}" is not the name of a connection`,
      );
    }
  }
}
