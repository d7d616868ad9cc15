/**
 * A token bucket: `perSecond` tokens a second, at most `burst` saved up. Every rate limit of the
 * revocation endpoint is one of these; the caller keeps them in a bounded cache.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  /** Seconds until a token is available (0: now). Takes nothing. */
  wait(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - this.tokens) / this.perSecond));
  }

  /** Takes a token and returns 0 if there is one, else the seconds to wait. */
  take(now: number): number {
    const wait = this.wait(now);
    if (wait === 0) this.tokens -= 1;
    return wait;
  }

  /**
   * Takes a token whether or not there is one. Requests admitted together are charged when they
   * end, so a source may overdraw; the debt is capped at one bucket, then it is paid back in time.
   */
  charge(now: number): void {
    this.refill(now);
    this.tokens = Math.max(-this.burst, this.tokens - 1);
  }

  private refill(now: number): void {
    if (now > this.updatedAt) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond);
      this.updatedAt = now;
    }
  }
}
