import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import { TokenBucket } from './token-bucket';

/** More connections than this share their buckets' memory: the least recently used bucket is dropped (a full one again). */
const MAX_CONNECTIONS = 10_000;

/**
 * A token bucket per connection (GTR_RATE_LIMIT_PER_SECOND, burst GTR_RATE_LIMIT_BURST), per
 * gateway instance. Only requests whose token verified reach it (SPEC §2 "Hostile traffic"), so
 * its keys are ids of existing connections and junk cannot spend an IdP's budget.
 */
@Injectable()
export class ConnectionRateLimiter {
  private readonly buckets = new LRUCache<string, TokenBucket>({ max: MAX_CONNECTIONS });

  constructor(@Inject(APP_CONFIG) private readonly config: GatewayConfig) {}

  /** 0 when the request may pass, else the seconds to wait. */
  take(connectionId: string, now = Date.now()): number {
    let bucket = this.buckets.get(connectionId);
    if (!bucket) {
      bucket = new TokenBucket(this.config.rateLimit.perSecond, this.config.rateLimit.burst, now);
      this.buckets.set(connectionId, bucket);
    }
    return bucket.take(now);
  }
}
