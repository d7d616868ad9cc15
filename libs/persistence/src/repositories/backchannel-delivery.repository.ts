import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { REPLAYABLE_DELIVERY_STATUSES, type Initiator } from '@ulo/contracts';
import { runSql, sqlRows } from './sql';

/** One delivery to plan: a terminated session × a client that selected the event. */
export interface PlannedDelivery {
  requestId: string;
  initiator: Initiator;
  sessionId: string;
  userId: string;
  clientId: string;
  url: string;
}

/** A delivery claimed for an attempt. */
export interface DueDelivery {
  id: string;
  requestId: string;
  sessionId: string;
  userId: string;
  clientId: string;
  url: string;
  initiator: Initiator;
  /** Counting the one about to be made. */
  attempts: number;
  createdAt: Date;
}

export interface AttemptOutcome {
  statusCode: number | null;
  error: string | null;
}

interface DueRow {
  id: string;
  request_id: string;
  session_id: string;
  user_id: string;
  client_id: string;
  url: string;
  initiator: Initiator;
  attempts: number;
  created_at: Date;
}

/**
 * `backchannel_deliveries` (SPEC §4): planned by the dispatcher when sessions are terminated,
 * claimed and attempted by it, replayed through the gateway's Management API.
 */
@Injectable()
export class BackchannelDeliveryRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * One statement for a batch of terminated sessions; a delivery already planned for the request,
   * session and client is not planned again (unique constraint). Returns how many rows are new.
   */
  async plan(deliveries: PlannedDelivery[]): Promise<number> {
    if (deliveries.length === 0) return 0;
    const { affected } = await runSql(
      this.dataSource.manager,
      `INSERT INTO backchannel_deliveries (id, request_id, session_id, user_id, client_id, url, initiator, status)
       SELECT gen_random_uuid()::text, request_id, session_id, user_id, client_id, url, initiator, 'pending'
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
         AS r (request_id, initiator, session_id, user_id, client_id, url)
       ORDER BY request_id, session_id, client_id
       ON CONFLICT (request_id, session_id, client_id) DO NOTHING`,
      [
        deliveries.map((d) => d.requestId),
        deliveries.map((d) => d.initiator),
        deliveries.map((d) => d.sessionId),
        deliveries.map((d) => d.userId),
        deliveries.map((d) => d.clientId),
        deliveries.map((d) => d.url),
      ],
    );
    return affected;
  }

  /**
   * Claims up to `limit` due deliveries, client by client (one index range each), at most
   * `perClient` per client and none of `saturatedClients`: one client's backlog cannot crowd out
   * the others, and a claim's cost does not grow with the backlog. A claimed row is leased for
   * `leaseSeconds` (due again after a crash) and its attempt counted.
   */
  async claimDue(limit: number, perClient: number, saturatedClients: string[], leaseSeconds: number): Promise<DueDelivery[]> {
    const rows = await sqlRows<DueRow>(
      this.dataSource.manager,
      `WITH RECURSIVE due_clients (client_id) AS (
         -- A loose index scan: one probe per client with due work, whatever the backlog.
         (SELECT client_id FROM backchannel_deliveries
          WHERE status = 'pending' AND next_attempt_at <= now() ORDER BY client_id LIMIT 1)
         UNION ALL
         SELECT (SELECT b.client_id FROM backchannel_deliveries b
                 WHERE b.status = 'pending' AND b.next_attempt_at <= now() AND b.client_id > c.client_id
                 ORDER BY b.client_id LIMIT 1)
         FROM due_clients c WHERE c.client_id IS NOT NULL
       ), picked AS (
         SELECT d.id FROM due_clients c
         CROSS JOIN LATERAL (
           SELECT id, next_attempt_at FROM backchannel_deliveries
           WHERE status = 'pending' AND client_id = c.client_id AND next_attempt_at <= now()
           ORDER BY next_attempt_at, id LIMIT $2
           FOR UPDATE SKIP LOCKED
         ) d
         WHERE c.client_id IS NOT NULL AND NOT (c.client_id = ANY($3::text[]))
         ORDER BY d.next_attempt_at LIMIT $1
       )
       UPDATE backchannel_deliveries b
       SET attempts = b.attempts + 1, next_attempt_at = now() + make_interval(secs => $4), updated_at = now()
       FROM picked WHERE b.id = picked.id
       RETURNING b.id, b.request_id, b.session_id, b.user_id, b.client_id, b.url, b.initiator, b.attempts, b.created_at`,
      [limit, perClient, saturatedClients, leaseSeconds],
    );
    return rows.map((r) => ({
      id: r.id,
      requestId: r.request_id,
      sessionId: r.session_id,
      userId: r.user_id,
      clientId: r.client_id,
      url: r.url,
      initiator: r.initiator,
      attempts: r.attempts,
      createdAt: r.created_at,
    }));
  }

  /** The attempt failed and will be made again in `delayMs`. */
  async retryLater(id: string, delayMs: number, outcome: AttemptOutcome): Promise<void> {
    await runSql(
      this.dataSource.manager,
      `UPDATE backchannel_deliveries SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000),
         last_status_code = $3, last_error = $4, updated_at = now() WHERE id = $1`,
      [id, delayMs, outcome.statusCode, outcome.error],
    );
  }

  /** The delivery is over (succeeded, failed or parked), in the transaction that logs it. */
  async finish(tx: EntityManager, id: string, status: 'succeeded' | 'failed' | 'parked', outcome: AttemptOutcome): Promise<void> {
    await runSql(
      tx,
      `UPDATE backchannel_deliveries SET status = $2, last_status_code = $3, last_error = $4, updated_at = now() WHERE id = $1`,
      [id, status, outcome.statusCode, outcome.error],
    );
  }

  /**
   * SPEC §6 `POST /backchannel-deliveries/{id}/retry`: a parked or failed delivery is due again
   * now, its attempts counted from zero. False when there is no such replayable delivery.
   */
  async replay(id: string): Promise<boolean> {
    const { affected } = await runSql(
      this.dataSource.manager,
      `UPDATE backchannel_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL, updated_at = now()
       WHERE id = $1 AND status = ANY($2::text[])`,
      [id, REPLAYABLE_DELIVERY_STATUSES],
    );
    return affected === 1;
  }
}
