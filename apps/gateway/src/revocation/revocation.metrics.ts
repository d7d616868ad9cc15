import { Counter, Histogram, register } from 'prom-client';
import { MetricSeries } from '@ulo/contracts';

const { gtrRequests, gtrAcceptanceDuration } = MetricSeries;

const answered = new Counter({ name: gtrRequests.name, help: gtrRequests.help, labelNames: gtrRequests.labelNames, registers: [register] });

const duration = new Histogram({
  name: gtrAcceptanceDuration.name,
  help: gtrAcceptanceDuration.help,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [register],
});

/** The counter of each status seen, so that the hot path does not hash a label set per request. */
const byStatus = new Map<number, Counter.Internal>();

/** Present from the start, so that a rate of accepted requests reads 0 rather than nothing. */
byStatus.set(204, answered.labels({ status: '204' }));

/**
 * `ulo_gtr_requests_total{status}` and `ulo_gtr_acceptance_duration_seconds` for one answered
 * revocation request; `startedAt` is `process.hrtime.bigint()` when its handler began.
 */
export function recordRevocationAnswer(status: number, startedAt: bigint): void {
  let counter = byStatus.get(status);
  if (!counter) {
    counter = answered.labels({ status: String(status) });
    byStatus.set(status, counter);
  }
  counter.inc();
  duration.observe(Number(process.hrtime.bigint() - startedAt) / 1e9);
}
