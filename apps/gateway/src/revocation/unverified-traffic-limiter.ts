import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import { TokenBucket } from './token-bucket';

/** Sources with a bucket in debt or refilling; beyond this many, the least recently used is forgotten. */
const MAX_SOURCES = 10_000;
/** Sources that recently sent a verified token (the IdPs' egress addresses). */
const MAX_TRUSTED_SOURCES = 1_000;
const TRUSTED_FOR_MS = 24 * 60 * 60 * 1000;

/**
 * SPEC §2 "Hostile traffic": requests that have not (yet) shown a verified token are limited per
 * source (GTR_UNVERIFIED_PER_SOURCE_*) and all together (GTR_UNVERIFIED_*), per gateway instance,
 * in bounded memory.
 *
 * - A request is admitted when its source's bucket and the overall bucket hold a token; admission
 *   takes nothing. A request that ends without a verified token is then charged to both (debt
 *   allowed, up to one bucket): a verified request never costs anything here, however many of them
 *   are in flight.
 * - A source that sent a verified token within the last 24 hours skips the overall bucket: junk
 *   spread over many addresses can empty it, but cannot keep out an IdP that has been seen before.
 *   Its own bucket still applies: junk from the IdP's own address (a shared NAT) is limited too.
 * - Nothing is allocated for a request that succeeds or for a source that never failed.
 */
@Injectable()
export class UnverifiedTrafficLimiter {
  private readonly sources = new LRUCache<string, TokenBucket>({ max: MAX_SOURCES });
  private readonly trusted = new LRUCache<string, true>({ max: MAX_TRUSTED_SOURCES, ttl: TRUSTED_FOR_MS });
  private readonly overall: TokenBucket;

  constructor(@Inject(APP_CONFIG) private readonly config: GatewayConfig) {
    const { perSecond, burst } = config.rateLimit.unverifiedOverall;
    this.overall = new TokenBucket(perSecond, burst, Date.now());
  }

  /** null when a request from `source` may be looked at, else which limit refuses it and for how long. */
  admit(source: string, now = Date.now()): { wait: number; scope: 'source' | 'overall' } | null {
    const own = this.sources.get(source)?.wait(now) ?? 0;
    if (own > 0) return { wait: own, scope: 'source' };
    if (this.trusted.has(source)) return null;
    const overall = this.overall.wait(now);
    return overall > 0 ? { wait: overall, scope: 'overall' } : null;
  }

  /** A request that ended without a verified token. */
  failed(source: string, now = Date.now()): void {
    let bucket = this.sources.get(source);
    if (!bucket) {
      const { perSecond, burst } = this.config.rateLimit.unverifiedPerSource;
      bucket = new TokenBucket(perSecond, burst, now);
      this.sources.set(source, bucket);
    }
    bucket.charge(now);
    this.overall.charge(now);
  }

  /** A request whose token verified: its source is an IdP's. */
  verified(source: string): void {
    this.trusted.set(source, true);
  }
}
