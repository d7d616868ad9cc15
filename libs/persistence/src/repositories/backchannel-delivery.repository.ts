import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import {
  DEFAULT_SIGNING_ALGORITHM,
  REPLAYABLE_DELIVERY_STATUSES,
  SIGNING_ALGORITHMS,
  type Initiator,
  type SigningAlgorithm,
} from '@ulo/contracts';
import { runSql, sqlRows } from './sql';

/**
 * One delivery to plan: a terminated session × a client that selected the event, or, with
 * `sessionId` null, a `sub`-only token for the user × a client that does not require `sid`.
 */
export interface PlannedDelivery {
  requestId: string;
  initiator: Initiator;
  sessionId: string | null;
  userId: string;
  clientId: string;
  url: string;
}

/** A delivery claimed for an attempt, with what the client says about its tokens now. */
export interface DueDelivery {
  id: string;
  requestId: string;
  /** null: a `sub`-only token. */
  sessionId: string | null;
  userId: string;
  clientId: string;
  /** null when the client was deleted since the delivery was planned. */
  clientName: string | null;
  signingAlg: SigningAlgorithm;
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

/** Where an attempt leaves its delivery: final, or due again in `retryInMs`. */
export type DeliveryCompletion = AttemptOutcome & { id: string } & (
    | { status: 'succeeded' | 'failed' | 'parked' }
    | { status: 'pending'; retryInMs: number }
  );

interface DueRow {
  id: string;
  request_id: string;
  session_id: string | null;
  user_id: string;
  client_id: string;
  client_name: string | null;
  signing_alg: string | null;
  url: string;
  initiator: Initiator;
  attempts: number;
  created_at: Date;
}

const algorithmOf = (alg: string | null): SigningAlgorithm =>
  (SIGNING_ALGORITHMS as readonly string[]).includes(alg ?? '') ? (alg as SigningAlgorithm) : DEFAULT_SIGNING_ALGORITHM;

/**
 * `backchannel_deliveries` (SPEC §4): planned by the dispatcher when sessions are terminated,
 * claimed and attempted by it, replayed through the gateway's Management API.
 */
@Injectable()
export class BackchannelDeliveryRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * One statement for a batch of terminated sessions, its rows as one JSON array; a delivery
   * already planned for the request, session and client (or, `sub`-only, the request, user and
   * client) is not planned again (two unique indexes). Returns how many rows are new.
   */
  async plan(deliveries: PlannedDelivery[]): Promise<number> {
    if (deliveries.length === 0) return 0;
    const { affected } = await runSql(
      this.dataSource.manager,
      `INSERT INTO backchannel_deliveries (id, request_id, session_id, user_id, client_id, url, initiator, status)
       SELECT gen_random_uuid()::text, r.request_id, r.session_id, r.user_id, r.client_id, r.url, r.initiator, 'pending'
       FROM json_to_recordset($1::json)
         AS r (request_id text, initiator text, session_id text, user_id text, client_id text, url text)
       ORDER BY r.request_id, r.session_id, r.user_id, r.client_id
       ON CONFLICT DO NOTHING`,
      [
        JSON.stringify(
          deliveries.map((d) => ({
            request_id: d.requestId,
            initiator: d.initiator,
            session_id: d.sessionId,
            user_id: d.userId,
            client_id: d.clientId,
            url: d.url,
          })),
        ),
      ],
    );
    return affected;
  }

  /**
   * Claims up to `limit` due deliveries, client by client (one index range each), at most
   * `perClient` per client and none of `saturatedClients`: one client's backlog cannot crowd out
   * the others, and a claim's cost does not grow with the backlog. A claimed row is leased for
   * `leaseSeconds` (due again after a crash) and its attempt counted. Each row comes with its
   * client's name and signing algorithm as they are now.
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
         SELECT d.id, c.client_id FROM due_clients c
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
       FROM picked LEFT JOIN clients cl ON cl.client_id = picked.client_id
       WHERE b.id = picked.id
       RETURNING b.id, b.request_id, b.session_id, b.user_id, b.client_id, b.url, b.initiator, b.attempts, b.created_at,
                 cl.name AS client_name, cl.oidc_logout ->> 'backchannel_logout_signing_alg' AS signing_alg`,
      [limit, perClient, saturatedClients, leaseSeconds],
    );
    return rows.map((r) => ({
      id: r.id,
      requestId: r.request_id,
      sessionId: r.session_id,
      userId: r.user_id,
      clientId: r.client_id,
      clientName: r.client_name,
      signingAlg: algorithmOf(r.signing_alg),
      url: r.url,
      initiator: r.initiator,
      attempts: r.attempts,
      createdAt: r.created_at,
    }));
  }

  /**
   * The outcomes of many attempts in one statement (in the transaction that logs the final ones):
   * each delivery finished (succeeded, failed, parked) or due again later. Rows in id order.
   */
  async complete(tx: EntityManager, completions: DeliveryCompletion[]): Promise<void> {
    if (completions.length === 0) return;
    const rows = [...completions]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((c) => ({
        id: c.id,
        status: c.status,
        retry_in_ms: c.status === 'pending' ? c.retryInMs : null,
        status_code: c.statusCode,
        error: c.error,
      }));
    await runSql(
      tx,
      `UPDATE backchannel_deliveries b
       SET status = o.status,
           next_attempt_at = CASE WHEN o.retry_in_ms IS NULL THEN b.next_attempt_at
                                  ELSE now() + make_interval(secs => o.retry_in_ms / 1000) END,
           last_status_code = o.status_code, last_error = o.error, updated_at = now()
       FROM json_to_recordset($1::json) AS o (id text, status text, retry_in_ms double precision, status_code integer, error text)
       WHERE b.id = o.id`,
      [JSON.stringify(rows)],
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
