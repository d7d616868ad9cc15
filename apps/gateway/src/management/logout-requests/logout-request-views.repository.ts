import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { DeliveryStatus, Initiator, LogoutRequested } from '@ulo/contracts';
import { sqlRows, type RequestOrigin } from '@ulo/persistence';

export interface RequestRow {
  id: string;
  initiator: Initiator;
  connection_id: string | null;
  connection_name: string | null;
  user_ids: string[];
  payload: LogoutRequested;
  origin: RequestOrigin;
  subject: unknown;
  created_at: Date;
  sessions_revoked: number | null;
  sessions_revoked_at: Date | null;
  refresh_tokens_revoked: number | null;
  refresh_tokens_revoked_at: Date | null;
  completed_at: Date | null;
  reannouncements: number;
}

export interface CountRow {
  request_id: string;
  client_id: string;
  client_name: string | null;
  status: DeliveryStatus;
  n: number;
  attempts: number;
  updated_at: Date;
}

export interface DeliveryRow {
  id: string;
  client_id: string;
  session_id: string | null;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The list's filters, each null when not asked for; `email` already normalised. */
export interface LogoutRequestFilters {
  /** The id of the last request of the previous page (exclusive). */
  after: string | null;
  userId: string | null;
  connection: string | null;
  initiator: Initiator | null;
  status: 'in_progress' | 'completed' | null;
  fromDate: Date | null;
  toDate: Date | null;
  email: string | null;
  limit: number;
}

/** The reads behind the Management API's logout-requests views (SPEC §6). */
@Injectable()
export class LogoutRequestViewsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Newest first, by (created_at, id), every filter exact. */
  page(f: LogoutRequestFilters): Promise<RequestRow[]> {
    return sqlRows<RequestRow>(
      this.dataSource.manager,
      `SELECT r.* FROM logout_requests r
       WHERE ($1::text IS NULL OR (r.created_at, r.id) < (SELECT f.created_at, f.id FROM logout_requests f WHERE f.id = $1))
         AND ($2::text IS NULL OR $2 = ANY (r.user_ids))
         AND ($3::text IS NULL OR r.connection_name = $3)
         AND ($4::text IS NULL OR r.initiator = $4)
         AND ($5::text IS NULL OR ($5 = 'completed') = (r.completed_at IS NOT NULL))
         AND ($6::timestamptz IS NULL OR r.created_at >= $6)
         AND ($7::timestamptz IS NULL OR r.created_at < $7)
         AND ($9::text IS NULL OR r.user_ids && ARRAY(
               -- An identity keeps its user's email normalised (normalizeEmail); a user without one
               -- keeps it only as given, which for an ASCII address (bytes = characters) normalises
               -- to its ASCII lower case: PostgreSQL has no IDNA, and lower() follows the locale
               -- unless told "C".
               SELECT i.user_id FROM user_identities i WHERE i.email_normalized = $9
               UNION
               SELECT u.user_id FROM users u
               WHERE octet_length(u.email) = char_length(u.email) AND lower(u.email COLLATE "C") = $9))
       ORDER BY r.created_at DESC, r.id DESC
       LIMIT $8`,
      [f.after, f.userId, f.connection, f.initiator, f.status, f.fromDate, f.toDate, f.limit, f.email],
    );
  }

  async find(id: string): Promise<RequestRow | undefined> {
    const [row] = await sqlRows<RequestRow>(this.dataSource.manager, `SELECT * FROM logout_requests WHERE id = $1`, [id]);
    return row;
  }

  /** Up to `perApplication` deliveries of each application, the ones not succeeded first. */
  deliveriesShown(id: string, perApplication: number): Promise<DeliveryRow[]> {
    return sqlRows<DeliveryRow>(
      this.dataSource.manager,
      `SELECT id, client_id, session_id, status, attempts, next_attempt_at, last_status_code, last_error, created_at, updated_at
       FROM (SELECT d.*, row_number() OVER (PARTITION BY d.client_id ORDER BY d.status = 'succeeded', d.updated_at DESC, d.id) AS rank
             FROM backchannel_deliveries d WHERE d.request_id = $1) ranked
       WHERE rank <= $2 ORDER BY client_id, rank`,
      [id, perApplication],
    );
  }

  /** The deliveries of each request by application and status, one grouped read for a page. */
  deliveryCounts(requestIds: string[]): Promise<CountRow[]> {
    return sqlRows<CountRow>(
      this.dataSource.manager,
      `SELECT d.request_id, d.client_id, c.name AS client_name, d.status, count(*)::int AS n, sum(d.attempts)::int AS attempts,
              max(d.updated_at) AS updated_at
       FROM backchannel_deliveries d LEFT JOIN clients c ON c.client_id = d.client_id
       WHERE d.request_id = ANY ($1::text[])
       GROUP BY d.request_id, d.client_id, c.name, d.status
       ORDER BY d.request_id, d.client_id`,
      [requestIds],
    );
  }
}
