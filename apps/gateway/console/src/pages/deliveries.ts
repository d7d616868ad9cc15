import { useState } from 'preact/hooks';
import { api, query } from '../api';
import { html } from '../html';
import type { Delivery, DeliveryStatus, Page } from '../resources';
import { clock } from '../parts/format';
import { usePolling } from '../parts/use-polling';
import { ActionButton, Badge, ErrorNote } from '../parts/widgets';

const STATUSES: DeliveryStatus[] = ['parked', 'failed', 'pending', 'succeeded'];

/** Back-channel deliveries by status, parked first: each can be replayed with a fresh token. */
export function DeliveriesPage() {
  const [status, setStatus] = useState<DeliveryStatus>('parked');
  const { data, error, refresh } = usePolling(() => api<Page<'deliveries', Delivery>>('GET', `/backchannel-deliveries${query({ status, take: 100 })}`), 5000, status);
  const rows = data?.deliveries ?? [];
  // Said at the page's level: a replayed delivery leaves the parked list with its row.
  const [notice, setNotice] = useState<string | null>(null);
  const replay = async (d: Delivery) => {
    const now = await api<Delivery>('POST', `/backchannel-deliveries/${d.id}/retry`);
    const said = `Replayed the delivery to ${d.client_id}: ${now.status}, a freshly signed logout token is on its way.`;
    setNotice(said);
    return said;
  };
  return html`<div>
    <h1>Back-channel deliveries</h1>
    <p class="note">A delivery is parked when the application kept failing after every retry; replaying it sends a freshly signed logout token.</p>
    <div class="filters">
      <div>
        <label for="d-status">Status</label>
        <select id="d-status" value=${status} onChange=${(e: Event) => setStatus((e.target as HTMLSelectElement).value as DeliveryStatus)}>
          ${STATUSES.map((s) => html`<option value=${s}>${s[0].toUpperCase() + s.slice(1)}</option>`)}
        </select>
      </div>
    </div>
    <${ErrorNote} error=${error} />
    <p class="notice" role="status">${notice ?? ''}</p>
    <table class="deliveries">
      <caption class="sr-only">${status} back-channel deliveries</caption>
      <thead><tr><th scope="col">Application</th><th scope="col">Token</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Updated</th><th scope="col">Logout</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
        ${data && rows.length === 0 ? html`<tr><td colspan="8" class="empty">No ${status} deliveries.</td></tr>` : null}
        ${rows.map(
          (d) => html`<tr key=${d.id} data-delivery-id=${d.id}>
            <td><span class="mono">${d.client_id}</span><br /><small class="mono">${d.backchannel_logout_uri}</small></td>
            <td class="mono">${d.kind === 'sid' ? `sid ${d.session_id}` : `sub ${d.user_id}`}</td>
            <td><${Badge} state=${d.status} /></td>
            <td>${d.attempts}</td>
            <td>${d.last_error ? html`<span class="error-text">${d.last_error}</span>` : d.last_status_code ? `HTTP ${d.last_status_code}` : '—'}</td>
            <td>${clock(d.updated_at)}</td>
            <td><a href=${`#/logouts/${d.request_id}`}>Timeline</a></td>
            <td>${d.status === 'parked' || d.status === 'failed'
              ? html`<${ActionButton} label="Replay" action=${() => replay(d)} onDone=${refresh} />`
              : null}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}
