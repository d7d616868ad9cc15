import type { LogStreamType, SerializedLogStreamEnvelope } from '@ulo/contracts';
import type { LogStreamSink } from '@ulo/persistence';

/** What a sink needs of a stream. */
export interface SinkTarget {
  id: string;
  type: LogStreamType;
  sink: LogStreamSink;
}

/**
 * A delivery that failed. `delivered` envelopes (a prefix of the batch) reached the sink before
 * the failure and need not be sent again.
 */
export class LogSinkException extends Error {
  constructor(
    message: string,
    readonly delivered = 0,
  ) {
    super(message);
  }
}

/**
 * The port every sink implements: deliver a step's envelopes, in order, or throw LogSinkException.
 * A sink that needs several requests for them (HTTP sends at most LOG_STREAM_BATCH_SIZE per request)
 * starts none after `deadline` (epoch ms) and returns how many envelopes it delivered (a prefix);
 * the rest stays queued for the next step.
 */
export interface LogSink {
  deliver(target: SinkTarget, batch: SerializedLogStreamEnvelope[], deadline: number): Promise<number>;
}
