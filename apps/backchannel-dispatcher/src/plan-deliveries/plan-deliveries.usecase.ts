import { Injectable } from '@nestjs/common';
import { SessionsTerminated } from '@ulo/contracts';
import { BackchannelDeliveryRepository, type PlannedDelivery } from '@ulo/persistence';
import { ClientRepository } from '../clients/client.repository';
import { DeliveryScheduler } from '../deliver-logout-tokens/delivery-scheduler';
import { selectsEvent } from './initiator-selection';

/**
 * Turns one sessions-terminated chunk (≤ 100 sessions) into delivery rows, one per session × client
 * that selected the event (SPEC §3). Rows, not Kafka messages, carry the fan-out: a user with 1,000
 * sessions across 20 apps is ten small bulk inserts, and a redelivered chunk inserts nothing new.
 */
@Injectable()
export class PlanDeliveries {
  constructor(
    private readonly clients: ClientRepository,
    private readonly deliveries: BackchannelDeliveryRepository,
    private readonly scheduler: DeliveryScheduler,
  ) {}

  async execute(event: SessionsTerminated): Promise<number> {
    const clients = await this.clients.settingsOf([...new Set(event.sessions.flatMap((s) => s.clientIds))]);
    const urlOf = new Map(clients.map((c) => [c.clientId, selectsEvent(c.oidcLogout, event.initiator)]));
    const planned: PlannedDelivery[] = [];
    for (const s of event.sessions) {
      for (const clientId of s.clientIds) {
        const url = urlOf.get(clientId);
        if (url) planned.push({ sessionId: s.sessionId, userId: s.userId, clientId, url });
      }
    }
    const inserted = await this.deliveries.plan(event.requestId, event.initiator, planned);
    if (inserted > 0) this.scheduler.kick();
    return inserted;
  }
}
