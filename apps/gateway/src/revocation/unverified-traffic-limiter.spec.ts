import { GatewayConfig } from '@ulo/config';
import { TokenBucket } from './token-bucket';
import { UnverifiedTrafficLimiter } from './unverified-traffic-limiter';

const config = {
  rateLimit: {
    perSecond: 200,
    burst: 400,
    unverifiedPerSource: { perSecond: 2, burst: 4 },
    unverifiedOverall: { perSecond: 10, burst: 20 },
  },
} as GatewayConfig;

describe('TokenBucket', () => {
  it('takes up to its burst, then says how long to wait, and refills at its rate', () => {
    const b = new TokenBucket(2, 3, 0);
    expect([b.take(0), b.take(0), b.take(0)]).toEqual([0, 0, 0]);
    expect(b.take(0)).toBe(1);
    expect(b.take(500)).toBe(0);
    expect(b.take(500)).toBe(1);
    expect([b.take(2000), b.take(2000), b.take(2000), b.take(2000)]).toEqual([0, 0, 0, 1]);
  });

  it('can be charged into debt of at most one bucket, which time pays back', () => {
    const b = new TokenBucket(1, 2, 0);
    for (let i = 0; i < 10; i++) b.charge(0);
    expect(b.wait(0)).toBe(3); // -2 tokens: three seconds to one
    expect(b.wait(3000)).toBe(0);
  });
});

describe('UnverifiedTrafficLimiter (SPEC §2 hostile traffic)', () => {
  it('admits a source until its own failures empty its bucket; other sources are not affected', () => {
    const l = new UnverifiedTrafficLimiter(config);
    for (let i = 0; i < 4; i++) {
      expect(l.admit('198.51.100.7', 0)).toBeNull();
      l.failed('198.51.100.7', 0);
    }
    expect(l.admit('198.51.100.7', 0)).toEqual({ wait: 1, scope: 'source' });
    expect(l.admit('203.0.113.1', 0)).toBeNull();
    expect(l.admit('198.51.100.7', 500)).toBeNull();
  });

  it('never charges a request that verified: many valid requests in flight are all admitted', () => {
    const l = new UnverifiedTrafficLimiter(config);
    for (let i = 0; i < 100; i++) expect(l.admit('192.0.2.10', 0)).toBeNull();
    l.verified('192.0.2.10');
    for (let i = 0; i < 100; i++) expect(l.admit('192.0.2.10', 0)).toBeNull();
  });

  it('refuses new sources once all sources together have failed too often, but not a source that sent a verified token', () => {
    const l = new UnverifiedTrafficLimiter(config);
    l.verified('192.0.2.10');
    for (let i = 0; i < 20; i++) l.failed(`203.0.113.${i}`, 0);
    expect(l.admit('203.0.113.200', 0)).toEqual({ wait: 1, scope: 'overall' });
    expect(l.admit('192.0.2.10', 0)).toBeNull();
  });

  it('still limits junk from a trusted address by its own bucket', () => {
    const l = new UnverifiedTrafficLimiter(config);
    l.verified('192.0.2.10');
    for (let i = 0; i < 4; i++) l.failed('192.0.2.10', 0);
    expect(l.admit('192.0.2.10', 0)).toEqual({ wait: 1, scope: 'source' });
  });

  it('keeps memory bounded: a flood from ever new sources evicts the oldest buckets', () => {
    const l = new UnverifiedTrafficLimiter({
      ...config,
      rateLimit: { ...config.rateLimit, unverifiedOverall: { perSecond: 1e9, burst: 1e9 } },
    });
    for (let i = 0; i < 25_000; i++) l.failed(`source-${i}`, 0);
    const sources = (l as unknown as { sources: { size: number } }).sources;
    expect(sources.size).toBe(10_000);
  });
});
