import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { DELIVERY_STATUSES, type DeliveryStatus, type RevocationScope } from '@ulo/contracts';
import { normalizeEmail } from '@ulo/persistence';
import { DEFAULT_TAKE, toPage } from '../paging/checkpoint-page';
import { ListLogoutRequestsQuery } from './logout-request.dto';
import { LogoutRequestViewsRepository, type CountRow, type DeliveryRow, type RequestRow } from './logout-request-views.repository';

/** Deliveries listed per application in one request's view: the ones not succeeded first. */
export const DELIVERIES_SHOWN_PER_APPLICATION = 100;

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
  constructor(private readonly views: LogoutRequestViewsRepository) {}

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
    const rows = await this.views.page({
      after: query.from ?? null,
      userId: query.user_id ?? null,
      connection: query.connection ?? null,
      initiator: query.initiator ?? null,
      status: query.status ?? null,
      fromDate,
      toDate,
      email,
      limit: take + 1,
    });
    const counts = await this.deliveryCounts(rows.slice(0, take).map((r) => r.id));
    return toPage('logout_requests', rows, take, (r) => r.id, (r) => this.summary(r, counts.get(r.id) ?? []));
  }

  async get(id: string) {
    const row = await this.find(id, `No logout request with id ${id}`, NotFoundException);
    const counts = (await this.deliveryCounts([id])).get(id) ?? [];
    const deliveries = await this.views.deliveriesShown(id, DELIVERIES_SHOWN_PER_APPLICATION);
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
    const row = await this.views.find(id);
    if (!row) throw new exception(message);
    return row;
  }

  /** The deliveries of each request by application and status, one grouped read for a page. */
  private async deliveryCounts(requestIds: string[]): Promise<Map<string, CountRow[]>> {
    if (requestIds.length === 0) return new Map();
    const rows = await this.views.deliveryCounts(requestIds);
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
