import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { RefreshTokenEntity } from '@ulo/persistence';

const REVOKED_BY = 'management-api';

/**
 * How the Management API revokes refresh tokens. For now straight in the database; the DELETE
 * routes call only this class so that the revocation can move onto the logout pipeline.
 */
@Injectable()
export class RefreshTokenRevocations {
  constructor(@InjectRepository(RefreshTokenEntity) private readonly tokens: Repository<RefreshTokenEntity>) {}

  async revokeOne(refreshTokenId: string): Promise<void> {
    await this.tokens.update(
      { id: refreshTokenId, revokedAt: IsNull() },
      { revokedAt: () => 'now()', revokedBy: REVOKED_BY },
    );
  }

  async revokeAllOf(userId: string): Promise<void> {
    await this.tokens.update({ userId, revokedAt: IsNull() }, { revokedAt: () => 'now()', revokedBy: REVOKED_BY });
  }
}
