import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, LogStreamerConfig } from '@ulo/config';
import { LogStreamerMetrics } from '../metrics/log-streamer.metrics';
import { LogSinkException } from '../sinks/log-sink';
import { LogSinks } from '../sinks/log-sinks';
import { DrivenStream, LogStreamDeliveryRepository, QueuedBatch } from './log-stream-delivery.repository';
import { retryDelayMs } from '@ulo/resilience';

/** This instance's hold on one stream; renewed as it works. */
export interface StreamLease {
  streamId: string;
  owner: string;
  renewedAt: number;
  /** What the next step works on, read while the last step recorded its delivery. */
  prefetched?: StreamRead;
  /**
   * The last step's delivery being recorded while the next step delivers: settled before the next
   * step records anything or stops, so that the queue shrinks in delivery order.
   */
  recording?: Promise<Recorded>;
}

/** How recording a delivery ended: whether this owner still held the lease, or what failed. */
type Recorded = { held: boolean; error?: undefined } | { held: false; error: Error };

/** What the stream's loop does next: run again after `waitMs`, or stop driving the stream. */
export type DeliveryStep = { next: 'run'; waitMs: number } | { next: 'stop'; reason: string };

const LEASE_LOST: DeliveryStep = { next: 'stop', reason: 'lease lost during delivery' };

/** The stream as this owner holds it (null: lease lost or stream deleted) and its next batch. */
interface StreamRead {
  stream: DrivenStream | null;
  batch: QueuedBatch;
}

/**
 * One step of a stream's delivery loop (SPEC §5): once the stream's queue holds a full batch
 * (`LOG_STREAM_BATCH_SIZE` events) or its oldest event has waited `LOG_STREAM_BATCH_WINDOW_MS`,
 * take up to `LOG_STREAM_BATCHES_PER_STEP` batches, deliver them in order, then remove what was
 * delivered from the queue. While a delivery is being recorded, the next step's batch is read
 * (without the events being removed) and delivered: a busy stream's deliveries do not wait for
 * the database, and a step records its delivery only once the step before it has recorded its
 * own. At least once: a crash after delivering and before removing delivers the batch again, and
 * so does a lost lease (the next owner delivers what this one could not record). A failure keeps
 * the batch queued, schedules a retry with backoff, and after `LOG_STREAM_MAX_FAILURES` in a row
 * suspends the stream.
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
    const { pollIntervalMs, leaseMs } = this.config.logStreams;
    let read = lease.prefetched;
    lease.prefetched = undefined;
    if (!read) {
      if (!(await this.settle(lease))) return LEASE_LOST;
      read = await this.read(lease, []);
    }
    const { stream, batch } = read;
    const deliverable =
      stream?.status === 'active' && stream.waitMs <= 0 && batch.logIds.length > 0 && batch.leasedStatus === 'active';
    // A step that delivers nothing settles the last step's recording before it returns.
    if (!deliverable && !(await this.settle(lease))) return LEASE_LOST;
    if (!stream) return { next: 'stop', reason: 'lease lost or stream deleted' };
    if (stream.status !== 'active') {
      await this.streams.release(stream.id, lease.owner);
      return { next: 'stop', reason: `stream is ${stream.status}` };
    }
    const renewBy = Math.max(50, leaseMs / 3);
    if (stream.waitMs > 0) return { next: 'run', waitMs: Math.min(stream.waitMs, renewBy) };
    if (batch.logIds.length === 0) return { next: 'run', waitMs: pollIntervalMs };
    if (batch.leasedStatus === undefined) return { next: 'run', waitMs: Math.min(batch.dueInMs, pollIntervalMs) };
    if (batch.leasedStatus !== 'active') return { next: 'run', waitMs: 0 };
    lease.renewedAt = Date.now();

    const envelopes = batch.envelopes;
    // Queued events no longer in the store cannot be delivered; they leave the queue with the batch.
    const kept = new Set(envelopes.map((e) => e.log_id));
    const gone = batch.logIds.filter((id) => !kept.has(id));
    const started = process.hrtime.bigint();
    let delivered: number;
    try {
      delivered = envelopes.length > 0 ? await this.sinks.of(stream.type).deliver(stream, envelopes, Date.now() + this.budgetMs()) : 0;
    } catch (err) {
      if (!(err instanceof LogSinkException)) {
        await this.settle(lease).catch(() => undefined);
        throw err;
      }
      this.observe(stream.type, started);
      if (!(await this.settle(lease))) return LEASE_LOST;
      return this.failed(lease, stream.consecutiveFailures, envelopes.map((e) => e.log_id), err);
    }
    this.observe(stream.type, started);
    const sent = envelopes.slice(0, delivered).map((e) => e.log_id);
    const done = [...sent, ...gone];
    // The queue shrinks in order: the step before records first.
    if (!(await this.settle(lease))) return LEASE_LOST;
    this.metrics.delivered.inc({ stream_id: stream.id }, delivered);
    // Only a whole delivery reads ahead: a partial one (the deadline passed) starts again from the
    // queue once its success is recorded. A read ahead extends no lease: this record does, past
    // the delivery of what was read.
    const whole = delivered === envelopes.length;
    const leaseForMs = whole ? this.deliveryLeaseMs() : leaseMs;
    const recording = this.streams.recordSuccess(stream.id, lease.owner, { delivered: sent, done }, leaseForMs).then(
      (held): Recorded => {
        if (held) lease.renewedAt = Date.now();
        return { held };
      },
      (error: unknown): Recorded => ({ held: false, error: error instanceof Error ? error : new Error(String(error)) }),
    );
    if (!whole) {
      lease.recording = recording;
      return (await this.settle(lease)) ? { next: 'run', waitMs: 0 } : LEASE_LOST;
    }
    let next: StreamRead;
    try {
      next = await this.read(lease, done, false);
    } catch (err) {
      // The record still ends before this step does (a failure of its own is left to the next read).
      await recording;
      throw err;
    }
    lease.recording = recording;
    // Read before this success was recorded: the stream is healthy once it is, whatever failures it had.
    lease.prefetched = next.stream ? { ...next, stream: { ...next.stream, consecutiveFailures: 0 } } : next;
    return { next: 'run', waitMs: 0 };
  }

  /**
   * Waits for the last step's delivery to be recorded: true if this owner still holds the lease
   * (or nothing was being recorded); a failure to record is thrown, and the next step reads the
   * queue afresh (what could not be recorded is delivered again).
   */
  async settle(lease: StreamLease): Promise<boolean> {
    const recording = lease.recording;
    if (!recording) return true;
    const outcome = await recording;
    if (lease.recording === recording) lease.recording = undefined;
    if (outcome.error !== undefined) {
      lease.prefetched = undefined;
      throw outcome.error;
    }
    if (!outcome.held) lease.prefetched = undefined;
    return outcome.held;
  }

  /**
   * The stream, if this owner still holds its lease (renewed when a third of it is gone), and its
   * next batch without the events of `inFlight` (being removed from the queue meanwhile). A due
   * batch extends the lease past its delivery: at most one request past the budget, then its timeout.
   */
  private async read(lease: StreamLease, inFlight: string[], extend = true): Promise<StreamRead> {
    const { batchSize, batchesPerStep, batchWindowMs, leaseMs } = this.config.logStreams;
    // Renew when a third of the lease is gone, so a live owner never loses it between steps (a
    // read ahead leaves that to the record it runs beside).
    const renew = extend && Date.now() - lease.renewedAt > leaseMs / 3;
    const [stream, batch] = await Promise.all([
      this.streams.load(lease.streamId, lease.owner, renew ? leaseMs : null),
      this.streams.nextBatch(
        lease.streamId,
        lease.owner,
        { batchSize, limit: batchSize * batchesPerStep, windowMs: batchWindowMs, inFlight },
        extend ? this.deliveryLeaseMs() : null,
      ),
    ]);
    if (renew && stream) lease.renewedAt = Date.now();
    return { stream, batch };
  }

  /** A lease that outlasts a step's delivery: at most one request past the budget, then its timeout. */
  private deliveryLeaseMs(): number {
    return this.config.logStreams.leaseMs + this.budgetMs() + this.config.security.outboundTimeoutMs;
  }

  /** How long one step's deliveries may start requests. */
  private budgetMs(): number {
    return this.config.logStreams.leaseMs / 2;
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
