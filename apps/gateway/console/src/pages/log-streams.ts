import { api } from '../api';
import { html } from '../html';
import type { LogStream, Page } from '../resources';
import { ago, clock } from '../parts/format';
import { usePolling } from '../parts/use-polling';
import { ActionButton, Badge, ErrorNote } from '../parts/widgets';

function destination(s: LogStream): string {
  const text = (v: unknown, otherwise: string) => (typeof v === 'string' ? v : otherwise);
  if (s.type === 'kafka') return `Kafka topic ${text(s.sink.topic, '?')}`;
  return `${text(s.sink.httpContentFormat, 'JSONARRAY')} to ${text(s.sink.httpEndpoint, '?')}`;
}

function StreamCard({ s, onChange }: { s: LogStream; onChange: () => void }) {
  const h = s.health;
  const setStatus = (status: 'active' | 'paused') =>
    api<LogStream>('PATCH', `/log-streams/${s.id}`, { status }).then((r) => (r.status === 'paused' ? 'Paused: events wait in its queue' : 'Resumed where it stopped'));
  return html`<article class="card" aria-labelledby=${`stream-${s.id}`} data-stream-id=${s.id}>
    <header>
      <h2 id=${`stream-${s.id}`}>${s.name} <${Badge} state=${s.status} /></h2>
      ${s.status === 'paused' || s.status === 'suspended'
        ? html`<${ActionButton} label=${s.status === 'suspended' ? 'Resume (it was suspended)' : 'Resume'} action=${() => setStatus('active')} onDone=${onChange} />`
        : html`<${ActionButton} label="Pause" action=${() => setStatus('paused')} onDone=${onChange} />`}
    </header>
    <p class="mono">${destination(s)}</p>
    <dl class="facts">
      <dt>Lag</dt><dd>${h.lag} ${h.lag === 1 ? 'event' : 'events'} waiting</dd>
      <dt>Delivered</dt><dd>${h.delivered}</dd>
      <dt>Last success</dt><dd>${h.last_success_at ? `${clock(h.last_success_at)} (${ago(h.last_success_at)})` : 'never'}</dd>
      <dt>Filters</dt><dd>${s.filters.length ? s.filters.map((f) => f.name).join(', ') : 'every event'}</dd>
      ${h.consecutive_failures > 0 ? html`<dt>Failing</dt><dd class="error-text">${h.consecutive_failures} times in a row${h.next_attempt_at ? `, next attempt ${clock(h.next_attempt_at)}` : ''}</dd>` : null}
      ${h.suspended_at ? html`<dt>Suspended</dt><dd>${clock(h.suspended_at)}: resume it once the destination works again</dd>` : null}
    </dl>
    ${h.last_errors.length > 0
      ? html`<details><summary>Last errors (${h.last_errors.length})</summary><ul class="errors">${h.last_errors.map((e) => html`<li><time>${clock(e.at)}</time> ${e.error}</li>`)}</ul></details>`
      : null}
  </article>`;
}

/** Every log stream: where it sends, how far behind it is, what failed last; pause and resume. */
export function LogStreamsPage() {
  const { data, error, refresh } = usePolling(() => api<Page<'log_streams', LogStream>>('GET', '/log-streams?take=100'), 5000, 'log-streams');
  const streams = data?.log_streams ?? [];
  return html`<div>
    <h1>Log streams</h1>
    <${ErrorNote} error=${error} />
    ${data && streams.length === 0 ? html`<p class="empty">No log streams. Create one with POST /api/v2/log-streams.</p>` : null}
    <div class="cards">${streams.map((s) => html`<${StreamCard} key=${s.id} s=${s} onChange=${refresh} />`)}</div>
  </div>`;
}
