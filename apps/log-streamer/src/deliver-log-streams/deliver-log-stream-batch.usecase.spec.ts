import type { LogStreamerConfig } from '@ulo/config';
import { serializedLogStreamEnvelope } from '@ulo/contracts';
import { LogStreamerMetrics } from '../metrics/log-streamer.metrics';
import { LogSinkException } from '../sinks/log-sink';
import type { LogSinks } from '../sinks/log-sinks';
import { DeliverLogStreamBatch, StreamLease } from './deliver-log-stream-batch.usecase';
import type { DrivenStream, LogStreamDeliveryRepository, QueuedBatch } from './log-stream-delivery.repository';

const config = {
  security: { outboundTimeoutMs: 5000 },
  logStreams: { batchSize: 2, batchesPerStep: 2, batchWindowMs: 1000, pollIntervalMs: 250, leaseMs: 30000, retryBaseMs: 1000, retryMaxMs: 300000, maxFailures: 20 },
} as unknown as LogStreamerConfig;

/** The stream as the database shows it: `failures` deliveries failed in a row before this step. */
const streamRow = (failures: number): DrivenStream =>
  ({ id: 'lst_1', type: 'http', status: 'active', sink: {}, consecutiveFailures: failures, waitMs: 0 }) as DrivenStream;
const dueBatch = (ids: string[]): QueuedBatch => ({
  logIds: ids,
  envelopes: ids.map((id) => serializedLogStreamEnvelope(id, `{"log_id": "${id}"}`)),
  dueInMs: 0,
  leasedStatus: 'active',
});

/**
 * The delivery step with its ports stubbed: the repository answers as the database would, the
 * sink succeeds or fails by script.
 */
describe('DeliverLogStreamBatch', () => {
  it('reads the next step while recording a delivery, and counts failures from the recorded success', async () => {
    // The database's stream row: 3 failures until the success below is recorded, none after.
    let failuresInDb = 3;
    const nextBatch = jest.fn().mockResolvedValueOnce(dueBatch(['A', 'B'])).mockResolvedValueOnce(dueBatch(['C']));
    const recordFailure = jest.fn().mockResolvedValue('active');
    const repository = {
      load: jest.fn(() => Promise.resolve(streamRow(failuresInDb))),
      nextBatch,
      recordSuccess: jest.fn(async () => {
        // The read ahead runs meanwhile and sees the row as it was.
        await new Promise((resolve) => setTimeout(resolve, 20));
        failuresInDb = 0;
        return true;
      }),
      recordFailure,
    } as unknown as LogStreamDeliveryRepository;
    const deliver = jest
      .fn()
      .mockResolvedValueOnce(2)
      .mockRejectedValueOnce(new LogSinkException('POST https://siem.example/in answered 503'));
    const sinks = { of: () => ({ deliver }) } as unknown as LogSinks;
    const step = new DeliverLogStreamBatch(config, repository, sinks, new LogStreamerMetrics(() => Promise.resolve([])));
    const lease: StreamLease = { streamId: 'lst_1', owner: 'me', renewedAt: Date.now() };

    expect(await step.execute(lease)).toEqual({ next: 'run', waitMs: 0 });
    // The second read left out the events being removed, and ran before the success was recorded.
    expect(nextBatch).toHaveBeenCalledTimes(2);
    expect(nextBatch.mock.calls[1][2]).toEqual({ batchSize: 2, limit: 4, windowMs: 1000, inFlight: ['A', 'B'] });

    expect(await step.execute(lease)).toEqual({ next: 'run', waitMs: 0 });
    expect(nextBatch).toHaveBeenCalledTimes(2); // the step used what was read ahead
    expect(deliver.mock.calls[1][1].map((e: { log_id: string }) => e.log_id)).toEqual(['C']);
    // The first failure after a success: the first retry delay (base 1000 ms, half of it random), not the fourth.
    const [, , failure] = recordFailure.mock.calls[0];
    expect(failure.retryInMs).toBeGreaterThanOrEqual(500);
    expect(failure.retryInMs).toBeLessThanOrEqual(1000);
  });

  /** A step whose record answers when the test says, with what it says. */
  function pipelined(recordAnswers: boolean[]) {
    const order: string[] = [];
    const releases: (() => void)[] = [];
    const nextBatch = jest
      .fn()
      .mockResolvedValueOnce(dueBatch(['A', 'B']))
      .mockResolvedValueOnce(dueBatch(['C', 'D']))
      .mockResolvedValueOnce(dueBatch(['E']));
    const recordSuccess = jest.fn((_id: string, _owner: string, outcome: { done: string[] }) => {
      const held = recordAnswers.shift() ?? true;
      order.push(`record ${outcome.done.join('')} starts`);
      return new Promise<boolean>((resolve) =>
        releases.push(() => {
          order.push(`record ${outcome.done.join('')} ends`);
          resolve(held);
        }),
      );
    });
    const repository = {
      load: jest.fn(() => Promise.resolve(streamRow(0))),
      nextBatch,
      recordSuccess,
      recordFailure: jest.fn(),
    } as unknown as LogStreamDeliveryRepository;
    const deliver = jest.fn((_stream: unknown, envelopes: { log_id: string }[]) => {
      order.push(`deliver ${envelopes.map((e) => e.log_id).join('')}`);
      return Promise.resolve(envelopes.length);
    });
    const sinks = { of: () => ({ deliver }) } as unknown as LogSinks;
    const step = new DeliverLogStreamBatch(config, repository, sinks, new LogStreamerMetrics(() => Promise.resolve([])));
    const lease: StreamLease = { streamId: 'lst_1', owner: 'me', renewedAt: Date.now() };
    const release = () => releases.shift()?.();
    return { step, lease, order, release, recordSuccess, nextBatch };
  }

  it('delivers the next step while the last one is recorded, and records in delivery order', async () => {
    const { step, lease, order, release, recordSuccess, nextBatch } = pipelined([true, true]);
    expect(await step.execute(lease)).toEqual({ next: 'run', waitMs: 0 });
    // The second step delivers although the first record has not ended ...
    const second = step.execute(lease);
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['deliver AB', 'record AB starts', 'deliver CD']);
    // ... and records only after it.
    expect(recordSuccess).toHaveBeenCalledTimes(1);
    release();
    expect(await second).toEqual({ next: 'run', waitMs: 0 });
    expect(order).toEqual(['deliver AB', 'record AB starts', 'deliver CD', 'record AB ends', 'record CD starts']);
    // The read ahead of the second step left out what the second record removes; no read ahead extends the lease.
    expect(nextBatch.mock.calls[2][2].inFlight).toEqual(['C', 'D']);
    expect(nextBatch.mock.calls.map((c) => c[3])).toEqual([config.logStreams.leaseMs + 15000 + 5000, null, null]);
    release();
    expect(await step.settle(lease)).toBe(true);
    expect(lease.recording).toBeUndefined();
  });

  it('stops when the record under way finds the lease lost, and records nothing after it', async () => {
    const { step, lease, order, release, recordSuccess } = pipelined([false]);
    await step.execute(lease);
    const second = step.execute(lease);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    expect(await second).toEqual({ next: 'stop', reason: 'lease lost during delivery' });
    // What the second step delivered is delivered again by the next owner: at least once, never skipped.
    expect(order).toEqual(['deliver AB', 'record AB starts', 'deliver CD', 'record AB ends']);
    expect(recordSuccess).toHaveBeenCalledTimes(1);
    expect(lease.prefetched).toBeUndefined();
  });
});
