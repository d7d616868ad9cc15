import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, MoreThan, Repository } from 'typeorm';
import { SessionClientEntity, SessionEntity, UserEntity } from '@ulo/persistence';
import { newId } from '../ids';
import { CheckpointQuery, DEFAULT_TAKE, toPage } from '../paging/checkpoint-page';
import { CreateSessionDto } from './session.dto';

export interface SessionView {
  id: string;
  user_id: string;
  clients: { client_id: string }[];
  created_at: Date;
  expires_at: Date | null;
}

const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';

@Injectable()
export class SessionsService {
  constructor(
    @InjectRepository(SessionEntity) private readonly sessions: Repository<SessionEntity>,
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
  ) {}

  view(s: SessionEntity): SessionView {
    return {
      id: s.id,
      user_id: s.userId,
      clients: (s.clients ?? [])
        .map((c) => ({ client_id: c.clientId }))
        .sort((a, b) => a.client_id.localeCompare(b.client_id)),
      created_at: s.createdAt,
      expires_at: s.expiresAt,
    };
  }

  /** SPEC §6: the login side registers a session it issued, so that a logout can find it. */
  async create(dto: CreateSessionDto): Promise<SessionView> {
    const id = dto.id ?? newId('ses', 24);
    try {
      await this.sessions.manager.transaction(async (m) => {
        await m.insert(SessionEntity, {
          id,
          userId: dto.user_id,
          expiresAt: dto.expires_at ? new Date(dto.expires_at) : null,
        });
        const clients = dto.clients ?? [];
        if (clients.length > 0) {
          await m.insert(
            SessionClientEntity,
            clients.map((c) => ({ sessionId: id, clientId: c.client_id })),
          );
        }
      });
    } catch (err) {
      const { code } = err as { code?: string };
      if (code === UNIQUE_VIOLATION) throw new ConflictException(`A session with id "${id}" already exists`);
      if (code === FOREIGN_KEY_VIOLATION)
        throw new BadRequestException(`user_id "${dto.user_id}" is not the id of a user`);
      throw err;
    }
    return this.get(id);
  }

  /** A revoked session is gone as far as callers can tell (SPEC §3). */
  async get(id: string): Promise<SessionView> {
    const found = await this.sessions.findOne({ where: { id, revokedAt: IsNull() }, relations: { clients: true } });
    if (!found) throw new NotFoundException(`No session with id ${id}`);
    return this.view(found);
  }

  async listOf(userId: string, query: CheckpointQuery) {
    await this.assertUserExists(userId);
    const take = query.take ?? DEFAULT_TAKE;
    const rows = await this.sessions.find({
      where: { userId, revokedAt: IsNull(), ...(query.from ? { id: MoreThan(query.from) } : {}) },
      relations: { clients: true },
      order: { id: 'ASC' },
      take: take + 1,
    });
    return toPage(
      'sessions',
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
