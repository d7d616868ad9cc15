import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DELIVERY_STATUSES, type DeliveryStatus, type Initiator, type LogoutRequested, type RevocationScope } from '@ulo/contracts';
import { normalizeEmail, sqlRows, type RequestOrigin } from '@ulo/persistence';
import { DEFAULT_TAKE, toPage } from '../paging/checkpoint-page';
import { ListLogoutRequestsQuery } from './logout-request.dto';

/** Deliveries listed per application in one request's view: the ones not succeeded first. */
export const DELIVERIES_SHOWN_PER_APPLICATION = 100;

interface RequestRow {
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

interface CountRow {
  request_id: string;
  client_id: string;
  client_name: string | null;
  status: DeliveryStatus;
  n: number;
  attempts: number;
  updated_at: Date;
}

interface DeliveryRow {
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

type ByStatus = Record<DeliveryStatus, number>;
const noDeliveries = (): ByStatus => Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, 0])) as ByStatus;
const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A step as the request's view shows it: not asked for by the request, not yet recorded, or done with its count. */
function stepView(scope: RevocationScope, count: number | null, at: Date | null) {
  if (scope.mode === 'none') return { state: 'not_requested' as const, count: null, at: null };
  if (count === null) return { state: 'pending' as const, count: null, at: null };
  return { state: 'done' as const, count, at: iso(at) };
}

function deliveryView(d: DeliveryRow) {
  return {
    id: d.id,
    kind: d.session_id === null ? 'sub' : 'sid',
    session_id: d.session_id,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.status === 'pending' ? d.next_attempt_at.toISOString() : null,
    last_status_code: d.last_status_code,
    last_error: d.last_error,
    created_at: d.created_at.toISOString(),
    updated_at: d.updated_at.toISOString(),
  };
}

/** The instant a date filter names (the DTO checked its syntax). */
function dateOf(name: string, value: string | undefined): Date | null {
  if (value === undefined) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new BadRequestException(`${name} must be an ISO 8601 date or date-time`);
  return date;
}

/**
 * SPEC §6 `logout-requests`: what happened to each logout, read from `logout_requests` and its
 * `backchannel_deliveries`: who asked (initiator, connection, the subject as received, from where),
 * the users it matched, each step with its count and time, and every application's deliveries.
 */
@Injectable()
export class LogoutRequestsService {
  constructor(private readonly dataSource: DataSource) {}

  /** Newest first; `from` is the id of the last request of the previous page. */
  async list(query: ListLogoutRequestsQuery) {
    const take = query.take ?? DEFAULT_TAKE;
    const fromDate = dateOf('from_date', query.from_date);
    const toDate = dateOf('to_date', query.to_date);
    if (fromDate && toDate && fromDate >= toDate) throw new BadRequestException('from_date must be before to_date');
    if (query.from !== undefined) await this.find(query.from, 'from must be the id of a logout request (the previous page\'s next)', BadRequestException);
    // Compared as GTR email subjects are (SPEC §2); an address that cannot be normalised matches nobody.
    const email = query.email === undefined ? null : normalizeEmail(query.email);
    if (query.email !== undefined && email === null) return { logout_requests: [] };
    const rows = await sqlRows<RequestRow>(
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
      [query.from ?? null, query.user_id ?? null, query.connection ?? null, query.initiator ?? null, query.status ?? null, fromDate, toDate, take + 1, email],
    );
    const counts = await this.deliveryCounts(rows.slice(0, take).map((r) => r.id));
    return toPage('logout_requests', rows, take, (r) => r.id, (r) => this.summary(r, counts.get(r.id) ?? []));
  }

  async get(id: string) {
    const row = await this.find(id, `No logout request with id ${id}`, NotFoundException);
    const counts = (await this.deliveryCounts([id])).get(id) ?? [];
    const deliveries = await sqlRows<DeliveryRow>(
      this.dataSource.manager,
      `SELECT id, client_id, session_id, status, attempts, next_attempt_at, last_status_code, last_error, created_at, updated_at
       FROM (SELECT d.*, row_number() OVER (PARTITION BY d.client_id ORDER BY d.status = 'succeeded', d.updated_at DESC, d.id) AS rank
             FROM backchannel_deliveries d WHERE d.request_id = $1) ranked
       WHERE rank <= $2 ORDER BY client_id, rank`,
      [id, DELIVERIES_SHOWN_PER_APPLICATION],
    );
    const summary = this.summary(row, counts);
    const shown = new Map<string, DeliveryRow[]>();
    for (const d of deliveries) shown.set(d.client_id, [...(shown.get(d.client_id) ?? []), d]);
    return {
      ...summary,
      backchannel: {
        ...summary.backchannel,
        applications: summary.backchannel.applications.map((app) => {
          const own = shown.get(app.client_id) ?? [];
          const lastFailure = own.find((d) => d.last_error !== null);
          return {
            ...app,
            last_status_code: lastFailure?.last_status_code ?? null,
            last_error: lastFailure?.last_error ?? null,
            deliveries: own.map(deliveryView),
            deliveries_truncated: app.count > own.length,
          };
        }),
      },
    };
  }

  private async find(id: string, message: string, exception: new (message: string) => Error): Promise<RequestRow> {
    const [row] = await sqlRows<RequestRow>(this.dataSource.manager, `SELECT * FROM logout_requests WHERE id = $1`, [id]);
    if (!row) throw new exception(message);
    return row;
  }

  /** The deliveries of each request by application and status, one grouped read for a page. */
  private async deliveryCounts(requestIds: string[]): Promise<Map<string, CountRow[]>> {
    if (requestIds.length === 0) return new Map();
    const rows = await sqlRows<CountRow>(
      this.dataSource.manager,
      `SELECT d.request_id, d.client_id, c.name AS client_name, d.status, count(*)::int AS n, sum(d.attempts)::int AS attempts,
              max(d.updated_at) AS updated_at
       FROM backchannel_deliveries d LEFT JOIN clients c ON c.client_id = d.client_id
       WHERE d.request_id = ANY ($1::text[])
       GROUP BY d.request_id, d.client_id, c.name, d.status
       ORDER BY d.request_id, d.client_id`,
      [requestIds],
    );
    const byRequest = new Map<string, CountRow[]>();
    for (const r of rows) byRequest.set(r.request_id, [...(byRequest.get(r.request_id) ?? []), r]);
    return byRequest;
  }

  private summary(r: RequestRow, counts: CountRow[]) {
    const total = noDeliveries();
    const applications = new Map<string, { client_id: string; client_name: string | null; count: number; by_status: ByStatus; attempts: number; updated_at: Date }>();
    for (const c of counts) {
      total[c.status] += c.n;
      const app = applications.get(c.client_id) ?? {
        client_id: c.client_id,
        client_name: c.client_name,
        count: 0,
        by_status: noDeliveries(),
        attempts: 0,
        updated_at: c.updated_at,
      };
      app.count += c.n;
      app.by_status[c.status] += c.n;
      app.attempts += c.attempts;
      if (c.updated_at > app.updated_at) app.updated_at = c.updated_at;
      applications.set(c.client_id, app);
    }
    return {
      id: r.id,
      initiator: r.initiator,
      status: r.completed_at ? 'completed' : 'in_progress',
      connection: r.connection_id ? { id: r.connection_id, name: r.connection_name } : null,
      subject: r.subject ?? null,
      user_ids: r.user_ids,
      origin: r.origin,
      accepted_at: r.created_at.toISOString(),
      steps: {
        sessions: stepView(r.payload.sessions, r.sessions_revoked, r.sessions_revoked_at),
        refresh_tokens: stepView(r.payload.refreshTokens, r.refresh_tokens_revoked, r.refresh_tokens_revoked_at),
      },
      reannouncements: r.reannouncements,
      completed_at: iso(r.completed_at),
      backchannel: {
        count: Object.values(total).reduce((a, b) => a + b, 0),
        by_status: total,
        applications: [...applications.values()].map((a) => ({ ...a, updated_at: a.updated_at.toISOString() })),
      },
    };
  }
}
