import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { SessionEntity } from '@ulo/persistence';

const REVOKED_BY = 'management-api';

/**
 * How the Management API ends sessions. For now straight in the database; the DELETE routes call
 * only this class so that the revocation can move onto the logout pipeline without touching them.
 */
@Injectable()
export class SessionRevocations {
  constructor(@InjectRepository(SessionEntity) private readonly sessions: Repository<SessionEntity>) {}

  async revokeOne(sessionId: string): Promise<void> {
    await this.sessions.update(
      { id: sessionId, revokedAt: IsNull() },
      { revokedAt: () => 'now()', revokedBy: REVOKED_BY },
    );
  }

  async revokeAllOf(userId: string): Promise<void> {
    await this.sessions.update({ userId, revokedAt: IsNull() }, { revokedAt: () => 'now()', revokedBy: REVOKED_BY });
  }
}
