/** What a series is in Prometheus terms; a histogram is also read as `<name>_bucket`, `_sum` and `_count`. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  name: string;
  type: MetricType;
  help: string;
  /** Bounded label sets only: status codes, topics and partitions, steps, outcomes, streams; never a user or a URL. */
  labelNames: readonly string[];
}

/**
 * Every Prometheus series the apps define (README "Metrics"), by the app that serves it. The
 * definitions take their names from here, and the Grafana dashboard (deploy/grafana) may use only
 * these. Node's default metrics come on top, prefixed `ulo_<app>_` (`ulo_gateway_process_cpu_seconds_total`).
 */
export const MetricSeries = {
  // gateway
  gtrRequests: {
    name: 'ulo_gtr_requests_total',
    type: 'counter',
    help: 'Global Token Revocation requests answered, by HTTP status (204: accepted)',
    labelNames: ['status'],
  },
  gtrAcceptanceDuration: {
    name: 'ulo_gtr_acceptance_duration_seconds',
    type: 'histogram',
    help: 'Time from a Global Token Revocation request reaching its handler to its answer (the 204 or the error)',
    labelNames: [],
  },
  logoutRequestsReannounced: {
    name: 'ulo_logout_requests_reannounced_total',
    type: 'counter',
    help: 'Logout requests announced again because they were not complete after LOGOUT_STUCK_AFTER_SECONDS',
    labelNames: [],
  },
  // every app: the outbox relay runs in each
  outboxBacklog: {
    name: 'ulo_outbox_backlog',
    type: 'gauge',
    help: 'Outbox rows waiting to be published, counted up to 10000 at most every 5 s',
    labelNames: [],
  },
  // every consumer app
  consumerLag: {
    name: 'ulo_consumer_lag',
    type: 'gauge',
    help: "Messages of a partition not handled yet: the fetch's high watermark minus the next offset to handle",
    labelNames: ['topic', 'partition'],
  },
  consumerBatchDuration: {
    name: 'ulo_consumer_batch_duration_seconds',
    type: 'histogram',
    help: 'Time to handle one batch of a partition (at most 500 messages), retries included, until its offset is resolved',
    labelNames: ['topic'],
  },
  consumerMessagesHandled: {
    name: 'ulo_consumer_messages_handled_total',
    type: 'counter',
    help: 'Messages handled and resolved (a redelivery counts again)',
    labelNames: ['topic'],
  },
  consumerMessagesDeadLettered: {
    name: 'ulo_consumer_messages_dead_lettered_total',
    type: 'counter',
    help: 'Messages sent to the dead-letter topic instead of being handled',
    labelNames: ['topic'],
  },
  // session-terminator, refresh-token-revoker
  logoutStepDuration: {
    name: 'ulo_logout_step_duration_seconds',
    type: 'histogram',
    help: 'Time of one committed transaction of a logout step (the batches of the partitions that share it)',
    labelNames: ['step'],
  },
  // backchannel-dispatcher
  backchannelDeliveries: {
    name: 'ulo_backchannel_deliveries_total',
    type: 'counter',
    help: 'Back-channel logout attempts by the outcome written for them: succeeded, failed (for good), retry, parked',
    labelNames: ['outcome'],
  },
  backchannelDeliveriesInFlight: {
    name: 'ulo_backchannel_deliveries_in_flight',
    type: 'gauge',
    help: 'Back-channel logout attempts running in this instance',
    labelNames: [],
  },
  // log-streamer
  logEventsPersisted: {
    name: 'ulo_log_events_persisted_total',
    type: 'counter',
    help: 'Log events consumed from log-events and found or put in the log_events store',
    labelNames: ['path'],
  },
  logStreamEventsDelivered: {
    name: 'ulo_log_stream_events_delivered_total',
    type: 'counter',
    help: 'Log events delivered to a log stream (a redelivery counts again)',
    labelNames: ['stream_id'],
  },
  logStreamEventsFailed: {
    name: 'ulo_log_stream_events_failed_total',
    type: 'counter',
    help: 'Log events in deliveries that failed (they stay queued and are retried)',
    labelNames: ['stream_id'],
  },
  logStreamDeliveryFailures: {
    name: 'ulo_log_stream_delivery_failures_total',
    type: 'counter',
    help: 'Failed delivery attempts',
    labelNames: ['stream_id'],
  },
  logStreamSuspensions: {
    name: 'ulo_log_stream_suspensions_total',
    type: 'counter',
    help: 'Streams suspended after too many consecutive failures',
    labelNames: ['stream_id'],
  },
  logStreamDeliveryDuration: {
    name: 'ulo_log_stream_delivery_duration_seconds',
    type: 'histogram',
    help: 'Time to deliver one batch, successful or not',
    labelNames: ['type'],
  },
  logStreamLag: {
    name: 'ulo_log_stream_lag',
    type: 'gauge',
    help: 'Events queued for a stream and not delivered yet',
    labelNames: ['stream_id', 'status'],
  },
} as const satisfies Record<string, MetricSpec>;
