import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { APP_CONFIG, LogStreamerConfig } from '@ulo/config';
import { OutageReporter, isTransient } from '@ulo/resilience';
import { DeliverLogStreamBatch, StreamLease } from './deliver-log-stream-batch.usecase';
import { LogStreamDeliveryRepository } from './log-stream-delivery.repository';

/** Streams leased per poll: instances started together share the streams instead of one taking all. */
const CLAIMS_PER_POLL = 4;

/**
 * Drives log streams: every poll it leases active streams nobody drives, and runs one delivery
 * loop per leased stream. Each loop waits only for its own stream (its batch window, its retry
 * backoff, its receiver), so one failing stream never delays another. On shutdown the loops
 * finish their step and the leases are released for other instances.
 */
@Injectable()
export class LogStreamScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(LogStreamScheduler.name);
  private readonly outage = new OutageReporter(this.log, 'PostgreSQL (log stream leases)');
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly loops = new Map<string, Promise<void>>();
  private readonly sleepers = new Set<() => void>();
  private poller: Promise<void> | null = null;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: LogStreamerConfig,
    private readonly streams: LogStreamDeliveryRepository,
    private readonly deliverBatch: DeliverLogStreamBatch,
  ) {}

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.poller = this.poll();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const wake of this.sleepers) wake();
    await this.poller;
    await Promise.all(this.loops.values());
    try {
      await this.streams.releaseAll(this.owner);
    } catch (err) {
      this.log.warn(`could not release the stream leases (they expire by themselves): ${(err as Error).message}`);
    }
  }

  /** The streams this instance drives right now. */
  get driven(): string[] {
    return [...this.loops.keys()];
  }

  private async poll(): Promise<void> {
    const { leaseMs, pollIntervalMs } = this.config.logStreams;
    while (!this.stopped) {
      try {
        for (const id of await this.streams.claim(this.owner, leaseMs, CLAIMS_PER_POLL, this.driven)) this.drive(id);
        this.outage.recovered();
      } catch (err) {
        if (isTransient(err)) this.outage.failed(err);
        else this.log.warn(`looking for log streams to drive failed: ${(err as Error).message}`);
      }
      await this.sleep(pollIntervalMs);
    }
  }

  private drive(streamId: string): void {
    const lease: StreamLease = { streamId, owner: this.owner, renewedAt: Date.now() };
    const loop = this.run(lease).finally(() => this.loops.delete(streamId));
    this.loops.set(streamId, loop);
  }

  private async run(lease: StreamLease): Promise<void> {
    this.log.log(`driving log stream ${lease.streamId}`);
    while (!this.stopped) {
      let waitMs: number;
      try {
        const step = await this.deliverBatch.execute(lease);
        if (step.next === 'stop') {
          this.log.log(`stopped driving log stream ${lease.streamId}: ${step.reason}`);
          return;
        }
        waitMs = step.waitMs;
      } catch (err) {
        // PostgreSQL unreachable or the like: keep the loop; the lease lapses if it lasts.
        if (isTransient(err)) this.outage.failed(err);
        else this.log.warn(`log stream ${lease.streamId}: ${(err as Error).message}`);
        waitMs = this.config.logStreams.pollIntervalMs;
      }
      if (waitMs > 0) await this.sleep(waitMs);
    }
    // Stopping: the last delivery is recorded before the lease is released (or it is delivered again).
    await this.deliverBatch.settle(lease).catch((err: Error) => this.log.warn(`log stream ${lease.streamId}: ${err.message}`));
  }

  /** A timer that shutdown cuts short. */
  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
