import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { SessionClientEntity, SessionEntity } from '@ulo/persistence';
import { newId } from '../ids';
import { CheckpointQuery, findPage } from '../paging/checkpoint-page';
import { rethrowViolation } from '../pg-errors';
import { UsersService } from '../users/users.service';
import { CreateSessionDto } from './session.dto';

export interface SessionView {
  id: string;
  user_id: string;
  clients: { client_id: string }[];
  created_at: Date;
  expires_at: Date | null;
}

@Injectable()
export class SessionsService {
  constructor(
    @InjectRepository(SessionEntity) private readonly sessions: Repository<SessionEntity>,
    private readonly users: UsersService,
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
      rethrowViolation(err, {
        unique: `A session with id "${id}" already exists`,
        foreignKey: `user_id "${dto.user_id}" is not the id of a user`,
      });
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
    await this.users.assertExists(userId);
    return findPage(this.sessions, query, {
      name: 'sessions',
      where: { userId, revokedAt: IsNull() },
      relations: { clients: true },
      view: (r) => this.view(r),
    });
  }
}
