import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@ulo/config';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * A token bucket per connection (GTR_RATE_LIMIT_PER_SECOND, burst GTR_RATE_LIMIT_BURST), per
 * gateway instance. Returns 0 when the request may pass, else the seconds to wait.
 */
@Injectable()
export class ConnectionRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  take(connection: string, now = Date.now()): number {
    const { perSecond, burst } = this.config.rateLimit;
    const bucket = this.buckets.get(connection) ?? { tokens: burst, updatedAt: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * perSecond);
    bucket.updatedAt = now;
    if (this.buckets.size > 10_000 && !this.buckets.has(connection)) this.buckets.clear();
    this.buckets.set(connection, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
  }
}
