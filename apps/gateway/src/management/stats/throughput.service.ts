import { Injectable } from '@nestjs/common';
import { encodeTime } from 'ulid';
import type { LogEventType } from '@ulo/contracts';
import { DEFAULT_THROUGHPUT_MINUTES, ThroughputBucket, ThroughputView } from './throughput.dto';
import { ThroughputRepository, type ThroughputSeries } from './throughput.repository';

/** About this many buckets whatever the window (5 minutes: 1 s buckets; 60 minutes: 12 s). */
const TARGET_BUCKETS = 300;

const REJECTED = 'universal_logout_failed' satisfies ThroughputSeries & LogEventType;
const DELIVERY_FAILED = 'oidc_backchannel_logout_failed' satisfies ThroughputSeries & LogEventType;

/** The lowest log_id a ULID minted at `ms` can have (as LogsService bounds its pages). */
const firstLogIdAt = (ms: number): string => `${encodeTime(ms, 10)}${'0'.repeat(16)}`;

/**
 * Where each bucket starts: at `from`, then at every multiple of `bucketMs` since 1970 up to `to`.
 * The grid is the epoch's, so a bucket keeps its start from one poll to the next; when `from` is
 * not on it (`minutes` × 60 not a multiple of the bucket), the first bucket is the shorter one.
 */
function bucketStarts(from: number, to: number, bucketMs: number): number[] {
  const starts = [from];
  for (let at = Math.floor(from / bucketMs) * bucketMs + bucketMs; at <= to; at += bucketMs) starts.push(at);
  return starts;
}

/**
 * Throughput for the operator console: logout requests accepted and completed, revocation
 * requests rejected, back-channel deliveries failed for good, per bucket of the last minutes.
 */
@Injectable()
export class ThroughputService {
  constructor(private readonly counts: ThroughputRepository) {}

  async throughput(minutes = DEFAULT_THROUGHPUT_MINUTES, now = Date.now()): Promise<ThroughputView> {
    const bucketSeconds = Math.max(1, Math.ceil((minutes * 60) / TARGET_BUCKETS));
    const bucketMs = bucketSeconds * 1000;
    const to = Math.floor(now / bucketMs) * bucketMs;
    const from = to - minutes * 60_000;
    // To the end of the current bucket rather than to now: a row stamped by a clock a moment ahead
    // of this one still counts in the bucket it names.
    const end = to + bucketMs;
    const rows = await this.counts.perBucket(new Date(from), new Date(end), bucketSeconds, firstLogIdAt(from), [REJECTED, DELIVERY_FAILED]);
    const buckets = new Map<number, ThroughputBucket>(
      bucketStarts(from, to, bucketMs).map((at) => [at, { at: new Date(at).toISOString(), accepted: 0, completed: 0, rejected: 0, deliveries_failed: 0 }]),
    );
    for (const row of rows) {
      const bucket = buckets.get(row.at.getTime());
      if (!bucket) continue;
      switch (row.series) {
        case 'accepted':
          bucket.accepted += row.n;
          break;
        case 'completed':
          bucket.completed += row.n;
          break;
        case REJECTED:
          bucket.rejected += row.n;
          break;
        case DELIVERY_FAILED:
          bucket.deliveries_failed += row.n;
          break;
      }
    }
    return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucket_seconds: bucketSeconds, buckets: [...buckets.values()] };
  }
}
