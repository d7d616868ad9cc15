import { LogoutRequested } from './logout-requested.event';
import { SessionsTerminated } from './sessions-terminated.event';

/**
 * Every topic the service owns, without the deployment's KAFKA_TOPIC_PREFIX.
 * Names state a fact and carry a version; a published version never changes shape.
 */
export const Topics = {
  logoutRequested: 'logout-requested.v1',
  sessionsTerminated: 'sessions-terminated.v1',
  /** Value: a bare DeadLetter (the failed message and its error), not an envelope. */
  deadLetter: 'dead-letter.v1',
  /** SPEC §5: the one topic whose name is fixed by the contract; its value is the bare log event. */
  logEvents: 'log-events',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];

/** Maps each enveloped topic to its payload, so publish(topic, payload) is checked by the compiler. */
export interface EventCatalogue {
  'logout-requested.v1': LogoutRequested;
  'sessions-terminated.v1': SessionsTerminated;
}

export type EnvelopedTopic = keyof EventCatalogue;

/** Partition counts: the most instances a consumer group can scale to. */
export const TopicPartitions: Record<TopicName, number> = {
  'logout-requested.v1': 12,
  'sessions-terminated.v1': 12,
  'dead-letter.v1': 1,
  'log-events': 6,
};

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * `retention.ms` each topic is created with. The pipeline's topics and `log-events` keep 7 days:
 * a consumer down for less than that loses nothing, and the log-streamer's fan-out markers
 * (LOG_STREAM_FANOUT_RETENTION_HOURS, 168) outlive every message that can be redelivered. The
 * dead-letter topic keeps 30 days, for an operator to replay from.
 */
export const TopicRetentionMs: Record<TopicName, number> = {
  'logout-requested.v1': 7 * DAY_MS,
  'sessions-terminated.v1': 7 * DAY_MS,
  'dead-letter.v1': 30 * DAY_MS,
  'log-events': 7 * DAY_MS,
};

export function prefixed(prefix: string, topic: TopicName): string {
  return `${prefix}${topic}`;
}
