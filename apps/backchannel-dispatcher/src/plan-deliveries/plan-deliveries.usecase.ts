import { Injectable } from '@nestjs/common';
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
    const rows: { sessionId: string; userId: string; clientId: string; url: string }[] = [];
    for (const s of event.sessions) {
      for (const clientId of s.clientIds) {
        const url = urlOf.get(clientId);
        if (url) rows.push({ sessionId: s.sessionId, userId: s.userId, clientId, url });
      }
    }
    if (rows.length === 0) return 0;
    // One statement for the whole chunk of sessions, columns as arrays.
    const result: unknown[] = await this.dataSource.query(
      `INSERT INTO backchannel_deliveries (id, request_id, session_id, user_id, client_id, url, initiator, status)
       SELECT gen_random_uuid()::text, $1, session_id, user_id, client_id, url, $2, 'pending'
       FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) AS r (session_id, user_id, client_id, url)
       ON CONFLICT (request_id, session_id, client_id) DO NOTHING RETURNING id`,
      [event.requestId, event.initiator, rows.map((r) => r.sessionId), rows.map((r) => r.userId), rows.map((r) => r.clientId), rows.map((r) => r.url)],
    );
    const inserted = result.length;
    if (inserted > 0) this.scheduler.kick();
    return inserted;
  }
}
