/** Where one message of a batch came from: no kafkajs types leak through. */
export interface EventOrigin {
  partition: number;
  offset: string;
  key: string | null;
}

/**
 * What a handler may know about the batch it is handling: the messages of one partition, in
 * order, that decoded and validated (the others were dead-lettered already). `events[i]` of the
 * handler came from `origins[i]`.
 */
export class BatchContext {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly origins: readonly EventOrigin[],
    /** Keeps the consumer's group membership during long work. */
    readonly heartbeat: () => Promise<void>,
  ) {}
}

/**
 * What a handler may answer: the events of its batch that can never be handled (e.g. an unknown
 * logout request), each with its reason. They go to the dead-letter topic alone; the others count
 * as handled. A handler that throws instead fails the whole batch (see KafkaEventServer).
 */
export interface BatchResult {
  rejected?: { index: number; reason: string }[];
}

/** The events of a batch that name one of `unknown` logout requests, rejected (SPEC §8: they cannot be handled). */
export function rejectUnknownRequests(events: { payload: { requestId: string } }[], unknown: string[]): BatchResult {
  if (unknown.length === 0) return {};
  const missing = new Set(unknown);
  return {
    rejected: events.flatMap((e, index) =>
      missing.has(e.payload.requestId) ? [{ index, reason: `unknown logout request ${e.payload.requestId}` }] : [],
    ),
  };
}
