import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type StreamLag = { streamId: string; status: string; lag: number }[];

/**
 * The log-streamer's Prometheus metrics, in a registry of its own (several instances may share a
 * process in tests). Lag is read from PostgreSQL at scrape time.
 */
export class LogStreamerMetrics {
  readonly registry = new Registry();

  /** `path`: "log-streamer" when this app stored the event, "producer" when its producer had. */
  readonly persisted = new Counter({
    name: 'ulo_log_events_persisted_total',
    help: 'Log events consumed from log-events and found or put in the log_events store',
    labelNames: ['path'] as const,
    registers: [this.registry],
  });

  readonly delivered = new Counter({
    name: 'ulo_log_stream_events_delivered_total',
    help: 'Log events delivered to a log stream (a redelivery counts again)',
    labelNames: ['stream_id'] as const,
    registers: [this.registry],
  });

  readonly failed = new Counter({
    name: 'ulo_log_stream_events_failed_total',
    help: 'Log events in deliveries that failed (they stay queued and are retried)',
    labelNames: ['stream_id'] as const,
    registers: [this.registry],
  });

  readonly failedDeliveries = new Counter({
    name: 'ulo_log_stream_delivery_failures_total',
    help: 'Failed delivery attempts',
    labelNames: ['stream_id'] as const,
    registers: [this.registry],
  });

  readonly suspensions = new Counter({
    name: 'ulo_log_stream_suspensions_total',
    help: 'Streams suspended after too many consecutive failures',
    labelNames: ['stream_id'] as const,
    registers: [this.registry],
  });

  readonly deliveryDuration = new Histogram({
    name: 'ulo_log_stream_delivery_duration_seconds',
    help: 'Time to deliver one batch, successful or not',
    labelNames: ['type'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor(lagOf: () => Promise<StreamLag>) {
    collectDefaultMetrics({ register: this.registry, prefix: 'ulo_log_streamer_' });
    new Gauge({
      name: 'ulo_log_stream_lag',
      help: 'Events queued for a stream and not delivered yet',
      labelNames: ['stream_id', 'status'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const s of await lagOf()) this.set({ stream_id: s.streamId, status: s.status }, s.lag);
      },
    });
  }
}
