import { api } from '../api';
import { html } from '../html';
import type { Throughput } from '../resources';
import { usePolling } from './use-polling';
import { ErrorNote } from './widgets';

const WIDTH = 1200;
const HEIGHT = 160;
const PAD = { left: 40, right: 8, top: 8, bottom: 22 };

const SERIES = [
  { key: 'accepted', label: 'Accepted', of: (b: Throughput['buckets'][number]) => b.accepted },
  { key: 'completed', label: 'Completed', of: (b: Throughput['buckets'][number]) => b.completed },
  { key: 'failed', label: 'Failed (rejected requests and deliveries failed for good)', of: (b: Throughput['buckets'][number]) => b.rejected + b.deliveries_failed },
] as const;

function niceMax(n: number): number {
  if (n <= 1) return 1;
  const step = 10 ** Math.floor(Math.log10(n));
  return Math.ceil(n / step) * step;
}

/** Logouts per second over the last minutes: accepted at the gateway, completed, failed. */
export function ThroughputChart({ minutes = 5 }: { minutes?: number }) {
  const { data, error } = usePolling(() => api<Throughput>('GET', `/stats/throughput?minutes=${minutes}`), 5000, `throughput-${minutes}`);
  if (!data) return html`<section class="chart" aria-busy="true"><h2>Throughput, last ${minutes} minutes</h2><${ErrorNote} error=${error} /></section>`;

  const perSecond = (n: number) => n / data.bucket_seconds;
  const rates = SERIES.map((s) => data.buckets.map((b) => perSecond(s.of(b))));
  const top = niceMax(Math.max(...rates.flat(), 0));
  const n = Math.max(data.buckets.length - 1, 1);
  const x = (i: number) => PAD.left + (i / n) * (WIDTH - PAD.left - PAD.right);
  const y = (v: number) => PAD.top + (1 - v / top) * (HEIGHT - PAD.top - PAD.bottom);
  const totals = SERIES.map((s) => data.buckets.reduce((sum, b) => sum + s.of(b), 0));
  const summary = `Last ${minutes} minutes: ${totals[0]} accepted, ${totals[1]} completed, ${totals[2]} failed; the highest rate ${top} per second or less.`;

  return html`<section class="chart">
    <h2>Throughput, last ${minutes} minutes <small>(per second)</small></h2>
    <figure>
      <svg viewBox=${`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label=${summary}>
        ${[0, 0.5, 1].map(
          (f) => html`<g>
            <line class="grid" x1=${PAD.left} x2=${WIDTH - PAD.right} y1=${y(top * f)} y2=${y(top * f)} />
            <text class="axis" x=${PAD.left - 6} y=${y(top * f) + 4} text-anchor="end">${+(top * f).toFixed(1)}</text>
          </g>`,
        )}
        <text class="axis" x=${PAD.left} y=${HEIGHT - 4}>−${minutes} min</text>
        <text class="axis" x=${WIDTH - PAD.right} y=${HEIGHT - 4} text-anchor="end">now</text>
        ${SERIES.map(
          (s, k) => html`<polyline class=${`line line-${s.key}`} points=${rates[k].map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')} />`,
        )}
      </svg>
      <figcaption>
        <ul class="legend">
          ${SERIES.map((s, k) => html`<li><span class=${`swatch line-${s.key}`} aria-hidden="true"></span>${s.label}: <strong>${totals[k]}</strong></li>`)}
        </ul>
      </figcaption>
    </figure>
    <${ErrorNote} error=${error} />
  </section>`;
}
