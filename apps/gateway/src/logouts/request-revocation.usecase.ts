import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { LogoutRequested, RevocationScope } from '@ulo/contracts';
import { OutboxRelay } from '@ulo/messaging';
import { AcceptedLogouts } from './accepted-logouts';

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
    private readonly logouts: AcceptedLogouts,
    private readonly relay: OutboxRelay,
  ) {}

  async execute(order: RevocationOrder): Promise<string> {
    const request: LogoutRequested = {
      requestId: randomUUID(),
      initiator: 'session-revoked',
      userIds: [order.userId],
      connection: null,
      sessions: order.sessions,
      refreshTokens: order.refreshTokens,
      acceptedAt: new Date().toISOString(),
    };
    await this.dataSource.transaction((tx) => this.logouts.record(tx, [{ request, origin: {} }]));
    this.relay.kick();
    return request.requestId;
  }
}
