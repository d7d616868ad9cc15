import { useState } from 'preact/hooks';
import { api, query } from '../api';
import { html } from '../html';
import type { Connection, LogoutRequest, Page } from '../resources';
import { clock, subjectLine } from '../parts/format';
import { ThroughputChart } from '../parts/throughput-chart';
import { usePolling } from '../parts/use-polling';
import { Badge, ErrorNote } from '../parts/widgets';

interface Filters {
  who: string;
  connection: string;
  status: string;
}

const PAGE = 25;

/** Who asked, in words: the IdP for a Universal Logout, or the Management API call that ended sessions. */
const INITIATORS: Record<string, string> = {
  'idp-logout': 'IdP (Universal Logout)',
  'session-revoked': 'Management API: sessions',
  'rp-logout': 'application',
  'password-changed': 'password changed',
  'account-deleted': 'account deleted',
  'account-deactivated': 'account deactivated',
  'caep-session-revoked': 'Shared Signals: session revoked',
  'caep-credential-change': 'Shared Signals: credential change',
};
export const initiatorLabel = (i: string) => INITIATORS[i] ?? i;

function stepCell(step: LogoutRequest['steps']['sessions']) {
  if (step.state === 'done') return String(step.count);
  return step.state === 'pending' ? html`<${Badge} state="pending" />` : '—';
}

function backchannelCell(r: LogoutRequest) {
  const b = r.backchannel;
  if (b.count === 0) return r.status === 'completed' ? 'none' : '…';
  return html`<span>${b.by_status.succeeded}/${b.count} delivered</span>
    ${b.by_status.pending ? html` <${Badge} state="pending" label=${`${b.by_status.pending} pending`} />` : null}
    ${b.by_status.parked ? html` <${Badge} state="parked" label=${`${b.by_status.parked} parked`} />` : null}
    ${b.by_status.failed ? html` <${Badge} state="failed" label=${`${b.by_status.failed} failed`} />` : null}`;
}

/** The latest logout requests, refreshed every 2 s, and the throughput of the last minutes. */
export function LogoutsPage() {
  const [draft, setDraft] = useState<Filters>({ who: '', connection: '', status: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  const [take, setTake] = useState(PAGE);
  const connections = usePolling(() => api<Page<'connections', Connection>>('GET', '/connections?take=100'), 30_000, 'connections');
  const who = filters.who.trim();
  const params = {
    take,
    user_id: who && !who.includes('@') ? who : undefined,
    email: who.includes('@') ? who : undefined,
    connection: filters.connection,
    status: filters.status,
  };
  const list = usePolling(() => api<Page<'logout_requests', LogoutRequest>>('GET', `/logout-requests${query(params)}`), 2000, JSON.stringify(params));
  const rows = list.data?.logout_requests ?? [];

  const apply = (e: Event) => {
    e.preventDefault();
    setTake(PAGE);
    setFilters({ ...draft });
  };

  return html`<div>
    <h1>Logouts</h1>
    <${ThroughputChart} />
    <form class="filters" onSubmit=${apply} aria-label="Filter logouts">
      <div>
        <label for="f-who">User ID or email</label>
        <input id="f-who" type="search" value=${draft.who} placeholder="auth0|… or jane@example.com" onInput=${(e: Event) => setDraft({ ...draft, who: (e.target as HTMLInputElement).value })} />
      </div>
      <div>
        <label for="f-connection">Connection</label>
        <select id="f-connection" value=${draft.connection} onChange=${(e: Event) => setDraft({ ...draft, connection: (e.target as HTMLSelectElement).value })}>
          <option value="">Any</option>
          ${(connections.data?.connections ?? []).map((c) => html`<option value=${c.name}>${c.name}</option>`)}
        </select>
      </div>
      <div>
        <label for="f-status">Status</label>
        <select id="f-status" value=${draft.status} onChange=${(e: Event) => setDraft({ ...draft, status: (e.target as HTMLSelectElement).value })}>
          <option value="">Any</option>
          <option value="in_progress">In progress</option>
          <option value="completed">Completed</option>
        </select>
      </div>
      <button type="submit">Apply</button>
    </form>
    <${ErrorNote} error=${list.error} />
    <p class="live" aria-live="polite">${list.data ? `${rows.length} shown, updated every 2 seconds` : 'Loading…'}</p>
    <table class="logouts">
      <caption class="sr-only">Latest logout requests, newest first</caption>
      <thead>
        <tr><th scope="col">Accepted</th><th scope="col">Initiator</th><th scope="col">Connection</th><th scope="col">Subject</th><th scope="col">Users</th><th scope="col">Status</th><th scope="col">Sessions</th><th scope="col">Refresh tokens</th><th scope="col">Back-channel</th><th scope="col"><span class="sr-only">Timeline</span></th></tr>
      </thead>
      <tbody>
        ${rows.length === 0 && list.data ? html`<tr><td colspan="10" class="empty">No logout requests${who || filters.connection || filters.status ? ' match these filters' : ' yet'}.</td></tr>` : null}
        ${rows.map(
          (r) => html`<tr key=${r.id} data-request-id=${r.id}>
            <td>${clock(r.accepted_at)}</td>
            <td>${initiatorLabel(r.initiator)}</td>
            <td>${r.connection?.name ?? '—'}</td>
            <td class="mono">${subjectLine(r.subject)}</td>
            <td class="mono">${r.user_ids.length === 0 ? html`<em>no user matched</em>` : r.user_ids.join(', ')}</td>
            <td><${Badge} state=${r.status} /></td>
            <td>${stepCell(r.steps.sessions)}</td>
            <td>${stepCell(r.steps.refresh_tokens)}</td>
            <td>${backchannelCell(r)}</td>
            <td><a href=${`#/logouts/${r.id}`} aria-label=${`Timeline of the logout accepted ${clock(r.accepted_at)}`}>Timeline</a></td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${list.data?.next && take < 100 ? html`<button type="button" onClick=${() => setTake(Math.min(100, take * 2))}>Show more</button>` : null}
  </div>`;
}
