import { Injectable } from '@nestjs/common';
import { SessionsTerminated } from '@ulo/contracts';
import { BackchannelDeliveryRepository, type PlannedDelivery } from '@ulo/persistence';
import { ClientRepository } from '../clients/client.repository';
import { DeliveryScheduler } from '../deliver-logout-tokens/delivery-scheduler';
import { selectsEvent } from './initiator-selection';

/**
 * Turns a batch of sessions-terminated chunks (≤ 100 sessions each) into delivery rows, one per
 * session × client that selected the event (SPEC §3), with one read of the clients and one insert.
 * Rows, not Kafka messages, carry the fan-out, and a redelivered chunk inserts nothing new.
 */
@Injectable()
export class PlanDeliveries {
  constructor(
    private readonly clients: ClientRepository,
    private readonly deliveries: BackchannelDeliveryRepository,
    private readonly scheduler: DeliveryScheduler,
  ) {}

  async execute(events: SessionsTerminated[]): Promise<number> {
    const clients = await this.clients.settingsOf([...new Set(events.flatMap((e) => e.sessions.flatMap((s) => s.clientIds)))]);
    const settingsOf = new Map(clients.map((c) => [c.clientId, c.oidcLogout]));
    const planned: PlannedDelivery[] = [];
    for (const event of events) {
      for (const s of event.sessions) {
        for (const clientId of s.clientIds) {
          const url = settingsOf.has(clientId) ? selectsEvent(settingsOf.get(clientId) ?? null, event.initiator) : null;
          if (url) planned.push({ requestId: event.requestId, initiator: event.initiator, sessionId: s.sessionId, userId: s.userId, clientId, url });
        }
      }
    }
    const inserted = await this.deliveries.plan(planned);
    if (inserted > 0) this.scheduler.kick();
    return inserted;
  }
}
