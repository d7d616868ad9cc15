import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, LogStreamerConfig } from '@ulo/config';
import { toLogStreamEnvelope } from '@ulo/contracts';
import { LogStreamerMetrics } from '../metrics/log-streamer.metrics';
import { LogSinkException } from '../sinks/log-sink';
import { LogSinks } from '../sinks/log-sinks';
import { LogStreamDeliveryRepository } from './log-stream-delivery.repository';
import { retryDelayMs } from '@ulo/resilience';

/** This instance's hold on one stream; renewed as it works. */
export interface StreamLease {
  streamId: string;
  owner: string;
  renewedAt: number;
}

/** What the stream's loop does next: run again after `waitMs`, or stop driving the stream. */
export type DeliveryStep = { next: 'run'; waitMs: number } | { next: 'stop'; reason: string };

/**
 * One step of a stream's delivery loop (SPEC §5): take the next batch from the stream's queue,
 * at most `LOG_STREAM_BATCH_SIZE` events or whatever waited `LOG_STREAM_BATCH_WINDOW_MS`, deliver
 * it, then remove it from the queue. At least once: a crash after delivering and before removing
 * delivers the batch again. A failure keeps the batch queued, schedules a retry with backoff, and
 * after `LOG_STREAM_MAX_FAILURES` in a row suspends the stream.
 */
@Injectable()
export class DeliverLogStreamBatch {
  private readonly log = new Logger(DeliverLogStreamBatch.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: LogStreamerConfig,
    private readonly streams: LogStreamDeliveryRepository,
    private readonly sinks: LogSinks,
    private readonly metrics: LogStreamerMetrics,
  ) {}

  async execute(lease: StreamLease): Promise<DeliveryStep> {
    const { batchSize, batchWindowMs, pollIntervalMs, leaseMs } = this.config.logStreams;
    // Renew when a third of the lease is gone, so a live owner never loses it between steps.
    const renew = Date.now() - lease.renewedAt > leaseMs / 3;
    const stream = await this.streams.load(lease.streamId, lease.owner, renew ? leaseMs : null);
    if (renew && stream) lease.renewedAt = Date.now();
    if (!stream) return { next: 'stop', reason: 'lease lost or stream deleted' };
    if (stream.status !== 'active') {
      await this.streams.release(stream.id, lease.owner);
      return { next: 'stop', reason: `stream is ${stream.status}` };
    }
    const renewBy = Math.max(50, leaseMs / 3);
    if (stream.waitMs > 0) return { next: 'run', waitMs: Math.min(stream.waitMs, renewBy) };

    // A due batch extends the lease past the delivery: at most one request past the budget, then its timeout.
    const budgetMs = leaseMs / 2;
    const batch = await this.streams.nextBatch(
      stream.id,
      lease.owner,
      batchSize,
      batchWindowMs,
      leaseMs + budgetMs + this.config.security.outboundTimeoutMs,
    );
    if (batch.logIds.length === 0) return { next: 'run', waitMs: pollIntervalMs };
    if (batch.leasedStatus === undefined) return { next: 'run', waitMs: Math.min(batch.dueInMs, pollIntervalMs) };
    if (batch.leasedStatus !== 'active') return { next: 'run', waitMs: 0 };
    lease.renewedAt = Date.now();

    const envelopes = batch.events.map(toLogStreamEnvelope);
    // Queued events no longer in the store cannot be delivered; they leave the queue with the batch.
    const kept = new Set(envelopes.map((e) => e.log_id));
    const gone = batch.logIds.filter((id) => !kept.has(id));
    const started = process.hrtime.bigint();
    let delivered: number;
    try {
      delivered = envelopes.length > 0 ? await this.sinks.of(stream.type).deliver(stream, envelopes, Date.now() + budgetMs) : 0;
    } catch (err) {
      if (!(err instanceof LogSinkException)) throw err;
      this.observe(stream.type, started);
      return this.failed(lease, stream.consecutiveFailures, envelopes.map((e) => e.log_id), err);
    }
    this.observe(stream.type, started);
    const sent = envelopes.slice(0, delivered).map((e) => e.log_id);
    const recorded = await this.streams.recordSuccess(stream.id, lease.owner, { delivered: sent, done: [...sent, ...gone] }, leaseMs);
    if (!recorded) return { next: 'stop', reason: 'lease lost during delivery' };
    lease.renewedAt = Date.now();
    this.metrics.delivered.inc({ stream_id: stream.id }, delivered);
    return { next: 'run', waitMs: 0 };
  }

  private async failed(
    lease: StreamLease,
    failuresBefore: number,
    logIds: string[],
    err: LogSinkException,
  ): Promise<DeliveryStep> {
    const { retryBaseMs, retryMaxMs, maxFailures } = this.config.logStreams;
    const failures = failuresBefore + 1;
    const retryInMs = retryDelayMs(failures, retryBaseMs, retryMaxMs);
    // The envelopes before the failure reached the sink (JSONOBJECT sends one request per event).
    const delivered = logIds.slice(0, err.delivered);
    const status = await this.streams.recordFailure(lease.streamId, lease.owner, {
      error: err.message,
      delivered,
      retryInMs,
      maxFailures,
    });
    this.metrics.failedDeliveries.inc({ stream_id: lease.streamId });
    this.metrics.failed.inc({ stream_id: lease.streamId }, logIds.length - err.delivered);
    if (err.delivered > 0) this.metrics.delivered.inc({ stream_id: lease.streamId }, err.delivered);
    if (status === null) return { next: 'stop', reason: 'lease lost during delivery' };
    if (status === 'suspended') {
      this.metrics.suspensions.inc({ stream_id: lease.streamId });
      this.log.warn(`log stream ${lease.streamId} suspended after ${failures} failed deliveries: ${err.message}`);
      return { next: 'stop', reason: 'suspended' };
    }
    this.log.warn(`log stream ${lease.streamId}: delivery ${failures} failed (${err.message}); retrying in ${retryInMs} ms`);
    return { next: 'run', waitMs: 0 };
  }

  private observe(type: string, started: bigint): void {
    this.metrics.deliveryDuration.observe({ type }, Number(process.hrtime.bigint() - started) / 1e9);
  }
}
