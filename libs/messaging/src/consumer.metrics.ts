import { Counter, Gauge, Histogram, register } from 'prom-client';
import { MetricSeries } from '@ulo/contracts';

const { consumerLag, consumerBatchDuration, consumerMessagesHandled, consumerMessagesDeadLettered } = MetricSeries;

/**
 * What every consumer app reports of its partitions (README "Metrics"), in the process registry.
 * Labels are the full topic name and the partition number: a bounded set.
 */
export const ConsumerMetrics = {
  lag: new Gauge({ name: consumerLag.name, help: consumerLag.help, labelNames: consumerLag.labelNames, registers: [register] }),
  batchDuration: new Histogram({
    name: consumerBatchDuration.name,
    help: consumerBatchDuration.help,
    labelNames: consumerBatchDuration.labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [register],
  }),
  handled: new Counter({
    name: consumerMessagesHandled.name,
    help: consumerMessagesHandled.help,
    labelNames: consumerMessagesHandled.labelNames,
    registers: [register],
  }),
  deadLettered: new Counter({
    name: consumerMessagesDeadLettered.name,
    help: consumerMessagesDeadLettered.help,
    labelNames: consumerMessagesDeadLettered.labelNames,
    registers: [register],
  }),
};
