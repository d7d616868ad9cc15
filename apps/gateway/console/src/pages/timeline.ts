import { api } from '../api';
import { html } from '../html';
import type { ApplicationDeliveries, Delivery, LogoutRequest, RequestDelivery } from '../resources';
import { after, clock, plural, subjectLine } from '../parts/format';
import { usePolling } from '../parts/use-polling';
import { ActionButton, Badge, ErrorNote } from '../parts/widgets';
import { initiatorLabel } from './logouts';

/** Still moving: a step not recorded yet or a delivery not over. */
const moving = (r: LogoutRequest) => r.status !== 'completed' || r.backchannel.by_status.pending > 0;

function replay(d: RequestDelivery): Promise<string> {
  return api<Delivery>('POST', `/backchannel-deliveries/${d.id}/retry`).then((after) => `Replayed: ${after.status}, a fresh token is being sent`);
}

function DeliveryRows({ app, onChange }: { app: ApplicationDeliveries; onChange: () => void }) {
  const list = app.deliveries ?? [];
  return html`<table class="deliveries">
    <caption class="sr-only">Deliveries to ${app.client_name ?? app.client_id}</caption>
    <thead><tr><th scope="col">Token</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Next attempt</th><th scope="col">Updated</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody>
      ${list.map(
        (d) => html`<tr key=${d.id} data-delivery-id=${d.id}>
          <td class="mono">${d.kind === 'sid' ? `sid ${d.session_id}` : 'sub only (every session)'}</td>
          <td><${Badge} state=${d.status} /></td>
          <td>${d.attempts}</td>
          <td>${d.last_error ? html`<span class="error-text">${d.last_error}</span>` : d.last_status_code ? `HTTP ${d.last_status_code}` : '—'}</td>
          <td>${d.next_attempt_at ? clock(d.next_attempt_at) : '—'}</td>
          <td>${clock(d.updated_at)}</td>
          <td>${d.status === 'parked' || d.status === 'failed' ? html`<${ActionButton} label="Replay" action=${() => replay(d)} onDone=${onChange} />` : null}</td>
        </tr>`,
      )}
    </tbody>
  </table>
  ${app.deliveries_truncated ? html`<p class="note">Showing ${list.length} of ${app.count}: the ones not delivered first.</p>` : null}`;
}

function ApplicationEntry({ r, app, onChange }: { r: LogoutRequest; app: ApplicationDeliveries; onChange: () => void }) {
  const s = app.by_status;
  const state = s.parked > 0 ? 'parked' : s.failed > 0 ? 'failed' : s.pending > 0 ? 'pending' : 'succeeded';
  const retries = app.attempts - app.count;
  return html`<li class=${`event event-${state}`}>
    <div class="when">${after(r.accepted_at, app.updated_at)}</div>
    <div class="what">
      <h3>${app.client_name ?? app.client_id} <${Badge} state=${state} /></h3>
      <p>
        ${s.succeeded} of ${plural(app.count, 'logout token')} delivered in ${plural(app.attempts, 'attempt')}${retries > 0 ? ` (${plural(retries, 'retry', 'retries')})` : ''}${s.pending ? `, ${s.pending} still being tried` : ''}${s.parked ? `, ${s.parked} parked after its last attempt` : ''}${s.failed ? `, ${s.failed} failed for good` : ''}.
        ${app.last_error ? html` Last error: <span class="error-text">${app.last_error}</span>${app.last_status_code ? ` (HTTP ${app.last_status_code})` : ''}.` : null}
      </p>
      <details open=${state !== 'succeeded'}>
        <summary>Deliveries to ${app.client_id}</summary>
        <${DeliveryRows} app=${app} onChange=${onChange} />
      </details>
    </div>
  </li>`;
}

function stepEntry(r: LogoutRequest, name: string, step: LogoutRequest['steps']['sessions'], noun: string): unknown {
  if (step.state === 'not_requested') return null;
  if (step.state === 'pending')
    return html`<li class="event event-pending"><div class="when">…</div><div class="what"><h3>${name} <${Badge} state="pending" /></h3><p>Not recorded yet.</p></div></li>`;
  return html`<li class="event event-succeeded">
    <div class="when">${after(r.accepted_at, step.at)}</div>
    <div class="what"><h3>${name}</h3><p>${plural(step.count ?? 0, noun)} revoked at ${clock(step.at)}.</p></div>
  </li>`;
}

interface Entry {
  /** When it happened (ms); entries still to come sort last, in the order they are listed. */
  at: number;
  node: unknown;
}

const timeOf = (iso: string | null | undefined) => (iso ? new Date(iso).getTime() : Number.POSITIVE_INFINITY);

/** Acceptance, each step, completion and each application, in the order they happened. */
function timelineOf(r: LogoutRequest, refresh: () => void): Entry[] {
  const entries: Entry[] = [
    { at: timeOf(r.accepted_at), node: html`<li class="event event-succeeded" key="accepted"><div class="when">${clock(r.accepted_at)}</div><div class="what"><h3>Accepted</h3><p>The gateway answered and the logout was durably queued.</p></div></li>` },
    { at: timeOf(r.steps.refresh_tokens.at), node: stepEntry(r, 'Refresh tokens revoked', r.steps.refresh_tokens, 'refresh token') },
    { at: timeOf(r.steps.sessions.at), node: stepEntry(r, 'Sessions terminated', r.steps.sessions, 'session') },
  ];
  if (r.completed_at)
    entries.push({ at: timeOf(r.completed_at), node: html`<li class="event event-succeeded" key="complete"><div class="when">${after(r.accepted_at, r.completed_at)}</div><div class="what"><h3>Sessions and refresh tokens done</h3><p>Every step recorded at ${clock(r.completed_at)}.</p></div></li>` });
  for (const app of r.backchannel.applications) {
    const over = app.by_status.pending === 0;
    entries.push({ at: over ? timeOf(app.updated_at) : Number.POSITIVE_INFINITY, node: html`<${ApplicationEntry} key=${app.client_id} r=${r} app=${app} onChange=${refresh} />` });
  }
  if (r.backchannel.count === 0 && r.completed_at)
    entries.push({ at: Number.POSITIVE_INFINITY, node: html`<li class="event" key="none"><div class="when"></div><div class="what"><h3>Back-channel logout</h3><p>No application had a session to be told about.</p></div></li>` });
  // Array.prototype.sort is stable: equal times keep the order above.
  return entries.filter((e) => e.node !== null).sort((a, b) => a.at - b.at);
}

/** One logout from acceptance through each step to each application, refreshed while it moves. */
export function TimelinePage({ id }: { id: string }) {
  const { data: r, error, refresh } = usePolling(() => api<LogoutRequest>('GET', `/logout-requests/${encodeURIComponent(id)}`), 2000, id, moving);
  if (!r) return html`<div><p><a href="#/logouts">← Logouts</a></p><h1>Logout</h1><${ErrorNote} error=${error} />${error ? null : html`<p>Loading…</p>`}</div>`;
  return html`<div>
    <p><a href="#/logouts">← Logouts</a></p>
    <h1>Logout <span class="mono">${r.id}</span> <${Badge} state=${r.status} /></h1>
    <${ErrorNote} error=${error} />
    <dl class="facts">
      <dt>Initiator</dt><dd>${initiatorLabel(r.initiator)}</dd>
      <dt>Connection</dt><dd>${r.connection?.name ?? '—'}</dd>
      <dt>Subject as received</dt><dd class="mono">${subjectLine(r.subject)}${typeof r.subject?.format === 'string' ? ` (${r.subject.format})` : ''}</dd>
      <dt>Users matched</dt><dd class="mono">${r.user_ids.length ? r.user_ids.join(', ') : 'none'}</dd>
      <dt>From</dt><dd>${r.origin?.ip ?? '—'}${r.origin?.user_agent ? ` (${r.origin.user_agent})` : ''}</dd>
      ${r.reannouncements > 0 ? html`<dt>Announced again</dt><dd>${plural(r.reannouncements, 'time')} (it was not complete in time)</dd>` : null}
    </dl>
    <h2>Timeline</h2>
    <ol class="timeline" aria-live="polite">
      ${timelineOf(r, refresh).map((e) => e.node)}
    </ol>
    ${moving(r) ? html`<p class="live">Updating every 2 seconds while deliveries are under way.</p>` : null}
  </div>`;
}
