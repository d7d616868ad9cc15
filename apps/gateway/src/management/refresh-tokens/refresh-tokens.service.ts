import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, MoreThan, Repository } from 'typeorm';
import { RefreshTokenEntity, SessionEntity, UserEntity } from '@ulo/persistence';
import { newId } from '../ids';
import { CheckpointQuery, DEFAULT_TAKE, toPage } from '../paging/checkpoint-page';
import { CreateRefreshTokenDto } from './refresh-token.dto';

export interface RefreshTokenView {
  id: string;
  user_id: string;
  client_id: string;
  session_id: string | null;
  created_at: Date;
  expires_at: Date | null;
}

const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';

@Injectable()
export class RefreshTokensService {
  constructor(
    @InjectRepository(RefreshTokenEntity) private readonly tokens: Repository<RefreshTokenEntity>,
    @InjectRepository(SessionEntity) private readonly sessions: Repository<SessionEntity>,
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
  ) {}

  view(t: RefreshTokenEntity): RefreshTokenView {
    return {
      id: t.id,
      user_id: t.userId,
      client_id: t.clientId,
      session_id: t.sessionId,
      created_at: t.createdAt,
      expires_at: t.expiresAt,
    };
  }

  /** SPEC §6: the login side registers a refresh token it issued, so that a logout can find it. */
  async create(dto: CreateRefreshTokenDto): Promise<RefreshTokenView> {
    const id = dto.id ?? newId('rt', 24);
    if (dto.session_id !== undefined) {
      // A token tied to another user's session would survive that user's logout.
      const session = await this.sessions.findOneBy({ id: dto.session_id });
      if (!session || session.userId !== dto.user_id) {
        throw new BadRequestException(`session_id "${dto.session_id}" is not a session of user ${dto.user_id}`);
      }
    }
    try {
      await this.tokens.insert({
        id,
        userId: dto.user_id,
        clientId: dto.client_id,
        sessionId: dto.session_id ?? null,
        expiresAt: dto.expires_at ? new Date(dto.expires_at) : null,
      });
    } catch (err) {
      const { code } = err as { code?: string };
      if (code === UNIQUE_VIOLATION) throw new ConflictException(`A refresh token with id "${id}" already exists`);
      if (code === FOREIGN_KEY_VIOLATION)
        throw new BadRequestException(`user_id "${dto.user_id}" is not the id of a user`);
      throw err;
    }
    return this.get(id);
  }

  /** A revoked refresh token is gone as far as callers can tell (SPEC §3). */
  async get(id: string): Promise<RefreshTokenView> {
    const found = await this.tokens.findOneBy({ id, revokedAt: IsNull() });
    if (!found) throw new NotFoundException(`No refresh token with id ${id}`);
    return this.view(found);
  }

  /** Listed under `tokens`, as Auth0's GET /users/{id}/refresh-tokens does. */
  async listOf(userId: string, query: CheckpointQuery) {
    await this.assertUserExists(userId);
    const take = query.take ?? DEFAULT_TAKE;
    const rows = await this.tokens.find({
      where: { userId, revokedAt: IsNull(), ...(query.from ? { id: MoreThan(query.from) } : {}) },
      order: { id: 'ASC' },
      take: take + 1,
    });
    return toPage(
      'tokens',
      rows,
      take,
      (r) => r.id,
      (r) => this.view(r),
    );
  }

  async assertUserExists(userId: string): Promise<void> {
    if (!(await this.users.existsBy({ userId }))) throw new NotFoundException(`No user with user_id ${userId}`);
  }
}
