import { Injectable } from '@nestjs/common';
import { SessionsTerminated } from '@ulo/contracts';
import { BackchannelDeliveryRepository, type OidcLogoutSettings, type PlannedDelivery } from '@ulo/persistence';
import { ClientRepository } from '../clients/client.repository';
import { DeliveryScheduler } from '../deliver-logout-tokens/delivery-scheduler';
import { selectsEvent } from './initiator-selection';

/**
 * SPEC §4 `backchannel_logout_session_required` (default true): false lets one `sub`-only token
 * end all of a user's sessions at the client, which is enough when the logout ended them all.
 */
export const wantsOneTokenPerUser = (settings: OidcLogoutSettings | null, allSessions: boolean): boolean =>
  allSessions && settings?.backchannel_logout_session_required === false;

/**
 * Turns a batch of sessions-terminated chunks (≤ 100 sessions each) into delivery rows (SPEC §3–4),
 * with one read of the clients and one insert: one per session × client that selected the event,
 * or, for a client that does not require `sid` when the logout ended all of the user's sessions,
 * one `sub`-only delivery per user × client. Rows, not Kafka messages, carry the fan-out, and a
 * redelivered chunk (or the next chunk of the same user) inserts nothing new.
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
    const perUser = new Set<string>();
    for (const event of events) {
      for (const s of event.sessions) {
        for (const clientId of s.clientIds) {
          if (!settingsOf.has(clientId)) continue;
          const settings = settingsOf.get(clientId) ?? null;
          const url = selectsEvent(settings, event.initiator);
          if (!url) continue;
          const delivery = { requestId: event.requestId, initiator: event.initiator, userId: s.userId, clientId, url };
          if (!wantsOneTokenPerUser(settings, event.allSessions)) {
            planned.push({ ...delivery, sessionId: s.sessionId });
            continue;
          }
          const key = JSON.stringify([event.requestId, s.userId, clientId]);
          if (perUser.has(key)) continue;
          perUser.add(key);
          planned.push({ ...delivery, sessionId: null });
        }
      }
    }
    const inserted = await this.deliveries.plan(planned);
    if (inserted > 0) this.scheduler.kick();
    return inserted;
  }
}
