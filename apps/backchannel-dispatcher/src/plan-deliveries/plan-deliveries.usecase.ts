import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { SessionsTerminated } from '@ulo/contracts';
import type { OidcLogoutSettings } from '@ulo/persistence';
import { DeliveryScheduler } from '../deliver-logout-tokens/delivery-scheduler';
import { selectsEvent } from './initiator-selection';

/**
 * Turns one sessions-terminated chunk (≤ 100 sessions) into delivery rows, one per session × client
 * that selected the event. Rows, not Kafka messages, carry the fan-out: a user with 1,000 sessions
 * across 20 apps is ten small transactions of bulk inserts, and a redelivered chunk inserts nothing
 * new (unique request × session × client).
 */
@Injectable()
export class PlanDeliveries {
  constructor(
    private readonly dataSource: DataSource,
    private readonly scheduler: DeliveryScheduler,
  ) {}

  async execute(event: SessionsTerminated): Promise<number> {
    const clientIds = [...new Set(event.sessions.flatMap((s) => s.clientIds))];
    if (clientIds.length === 0) return 0;
    const clients: { client_id: string; oidc_logout: OidcLogoutSettings | null }[] = await this.dataSource.query(
      `SELECT client_id, oidc_logout FROM clients WHERE client_id = ANY($1::text[])`,
      [clientIds],
    );
    const urlOf = new Map(clients.map((c) => [c.client_id, selectsEvent(c.oidc_logout, event.initiator)]));
    const rows: unknown[][] = [];
    for (const s of event.sessions) {
      for (const clientId of s.clientIds) {
        const url = urlOf.get(clientId);
        if (url) rows.push([randomUUID(), event.requestId, s.sessionId, s.userId, clientId, url, event.initiator]);
      }
    }
    let inserted = 0;
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      const tuples = chunk.map((_, j) => `(${Array.from({ length: 7 }, (__, k) => `$${j * 7 + k + 1}`).join(', ')}, 'pending')`);
      const result = await this.dataSource.query(
        `INSERT INTO backchannel_deliveries (id, request_id, session_id, user_id, client_id, url, initiator, status)
         VALUES ${tuples.join(', ')} ON CONFLICT (request_id, session_id, client_id) DO NOTHING RETURNING id`,
        chunk.flat(),
      );
      inserted += result.length;
    }
    if (inserted > 0) this.scheduler.kick();
    return inserted;
  }
}
