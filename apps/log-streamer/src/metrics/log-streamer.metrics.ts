import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MetricSeries } from '@ulo/contracts';

export type StreamLag = { streamId: string; status: string; lag: number }[];

const S = MetricSeries;

/**
 * The log-streamer's Prometheus metrics, in a registry of its own (several instances may share a
 * process in tests), served with the process registry (Node's metrics, prefixed `ulo_log_streamer_`,
 * the consumer's and the relay's) on both of its ports. Lag is read from PostgreSQL at scrape time.
 */
export class LogStreamerMetrics {
  readonly registry = new Registry();

  /** `path`: "log-streamer" when this app stored the event, "producer" when its producer had. */
  readonly persisted = new Counter({
    name: S.logEventsPersisted.name,
    help: S.logEventsPersisted.help,
    labelNames: S.logEventsPersisted.labelNames,
    registers: [this.registry],
  });

  readonly delivered = new Counter({
    name: S.logStreamEventsDelivered.name,
    help: S.logStreamEventsDelivered.help,
    labelNames: S.logStreamEventsDelivered.labelNames,
    registers: [this.registry],
  });

  readonly failed = new Counter({
    name: S.logStreamEventsFailed.name,
    help: S.logStreamEventsFailed.help,
    labelNames: S.logStreamEventsFailed.labelNames,
    registers: [this.registry],
  });

  readonly failedDeliveries = new Counter({
    name: S.logStreamDeliveryFailures.name,
    help: S.logStreamDeliveryFailures.help,
    labelNames: S.logStreamDeliveryFailures.labelNames,
    registers: [this.registry],
  });

  readonly suspensions = new Counter({
    name: S.logStreamSuspensions.name,
    help: S.logStreamSuspensions.help,
    labelNames: S.logStreamSuspensions.labelNames,
    registers: [this.registry],
  });

  readonly deliveryDuration = new Histogram({
    name: S.logStreamDeliveryDuration.name,
    help: S.logStreamDeliveryDuration.help,
    labelNames: S.logStreamDeliveryDuration.labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor(lagOf: () => Promise<StreamLag>) {
    new Gauge({
      name: S.logStreamLag.name,
      help: S.logStreamLag.help,
      labelNames: S.logStreamLag.labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const s of await lagOf()) this.set({ stream_id: s.streamId, status: s.status }, s.lag);
      },
    });
  }
}
