import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { LogoutRequested, Topics } from '@ulo/contracts';
import { OutboxWriter } from '@ulo/messaging';
import { LogoutRequestRepository, type AcceptedRequest } from '@ulo/persistence';

/**
 * SPEC §2 "a 204 is a promise": an accepted logout is its `logout_requests` row and its
 * `logout-requested` event, written in the caller's transaction, so neither exists without the
 * other. Every way a logout is accepted (GTR requests, a batch at a time; a Management API delete)
 * records it here.
 */
@Injectable()
export class AcceptedLogouts {
  constructor(
    private readonly requests: LogoutRequestRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  async record(tx: EntityManager, accepted: AcceptedRequest[]): Promise<void> {
    if (accepted.length === 0) return;
    await this.requests.insert(tx, accepted);
    await this.announce(tx, accepted.map((a) => a.request));
  }

  /** Writes the requests' events (again, for a request that is stuck: every step is idempotent). */
  async announce(tx: EntityManager, requests: LogoutRequested[]): Promise<void> {
    // STYLE §3: the Kafka key is the user, so one user's logouts stay in order.
    await this.outbox.write(
      tx,
      requests.map((r) => this.outbox.event(Topics.logoutRequested, r.userIds[0], r.requestId, r)),
    );
  }
}
