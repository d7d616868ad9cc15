import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { LogoutRequested, RevocationScope, Topics } from '@ulo/contracts';
import { OutboxRelay, OutboxWriter } from '@ulo/messaging';

export interface RevocationOrder {
  userId: string;
  sessions: RevocationScope;
  refreshTokens: RevocationScope;
}

/**
 * SPEC §6: a Management API delete of sessions or refresh tokens takes the same path as a
 * Universal Logout (initiator `session-revoked`): recorded with its event in one transaction,
 * then terminated by the consumers, with the same back-channel fan-out.
 */
@Injectable()
export class RequestRevocation {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
  ) {}

  async execute(order: RevocationOrder): Promise<string> {
    const requestId = randomUUID();
    const event: LogoutRequested = {
      requestId,
      initiator: 'session-revoked',
      userIds: [order.userId],
      connection: null,
      sessions: order.sessions,
      refreshTokens: order.refreshTokens,
      acceptedAt: new Date().toISOString(),
    };
    await this.dataSource.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO logout_requests (id, initiator, user_ids, payload, origin) VALUES ($1, 'session-revoked', $2, $3, '{}')`,
        [requestId, [order.userId], JSON.stringify(event)],
      );
      await this.outbox.insert(tx, [this.outbox.event(Topics.logoutRequested, order.userId, requestId, event)]);
    });
    this.relay.kick();
    return requestId;
  }
}
