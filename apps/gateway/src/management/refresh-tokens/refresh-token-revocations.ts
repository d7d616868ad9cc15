import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { RefreshTokenEntity } from '@ulo/persistence';
import { RequestRevocation } from '../../revocation/request-revocation.usecase';

/** How the Management API revokes refresh tokens: through the logout pipeline, initiator `session-revoked`. */
@Injectable()
export class RefreshTokenRevocations {
  constructor(
    @InjectRepository(RefreshTokenEntity) private readonly tokens: Repository<RefreshTokenEntity>,
    private readonly requestRevocation: RequestRevocation,
  ) {}

  async revokeOne(refreshTokenId: string): Promise<string | null> {
    const token = await this.tokens.findOneBy({ id: refreshTokenId });
    if (!token) return null;
    return this.requestRevocation.execute({
      userId: token.userId,
      sessions: { mode: 'none' },
      refreshTokens: { mode: 'one', id: refreshTokenId },
    });
  }

  async revokeAllOf(userId: string): Promise<string> {
    return this.requestRevocation.execute({ userId, sessions: { mode: 'none' }, refreshTokens: { mode: 'all' } });
  }
}
