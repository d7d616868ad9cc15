import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { RefreshTokenEntity, SessionEntity } from '@ulo/persistence';
import { newId } from '../ids';
import { CheckpointQuery, findPage } from '../paging/checkpoint-page';
import { rethrowViolation } from '../pg-errors';
import { UsersService } from '../users/users.service';
import { CreateRefreshTokenDto } from './refresh-token.dto';

export interface RefreshTokenView {
  id: string;
  user_id: string;
  client_id: string;
  session_id: string | null;
  created_at: Date;
  expires_at: Date | null;
}

@Injectable()
export class RefreshTokensService {
  constructor(
    @InjectRepository(RefreshTokenEntity) private readonly tokens: Repository<RefreshTokenEntity>,
    @InjectRepository(SessionEntity) private readonly sessions: Repository<SessionEntity>,
    private readonly users: UsersService,
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
      rethrowViolation(err, {
        unique: `A refresh token with id "${id}" already exists`,
        foreignKey: `user_id "${dto.user_id}" is not the id of a user`,
      });
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
    await this.users.assertExists(userId);
    return findPage(this.tokens, query, {
      name: 'tokens',
      where: { userId, revokedAt: IsNull() },
      view: (r) => this.view(r),
    });
  }
}
