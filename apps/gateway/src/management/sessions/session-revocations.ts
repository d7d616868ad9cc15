import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { SessionEntity } from '@ulo/persistence';
import { RequestRevocation } from '../../revocation/request-revocation.usecase';

/** How the Management API ends sessions: through the logout pipeline, initiator `session-revoked`. */
@Injectable()
export class SessionRevocations {
  constructor(
    @InjectRepository(SessionEntity) private readonly sessions: Repository<SessionEntity>,
    private readonly requestRevocation: RequestRevocation,
  ) {}

  async revokeOne(sessionId: string): Promise<string | null> {
    const session = await this.sessions.findOneBy({ id: sessionId });
    if (!session) return null;
    return this.requestRevocation.execute({
      userId: session.userId,
      sessions: { mode: 'one', id: sessionId },
      refreshTokens: { mode: 'none' },
    });
  }

  async revokeAllOf(userId: string): Promise<string> {
    return this.requestRevocation.execute({ userId, sessions: { mode: 'all' }, refreshTokens: { mode: 'none' } });
  }
}
