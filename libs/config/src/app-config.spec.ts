import { loadConfig } from './app-config';

describe('loadConfig (SPEC §1)', () => {
  it('applies the contract defaults', () => {
    const c = loadConfig({});
    expect(c.publicBaseUrl).toBe('http://127.0.0.1:3000');
    expect(c.http.port).toBe(3000);
    expect(c.database.url).toBe('postgres://postgres@127.0.0.1:5432/universal_logout');
    expect(c.kafka).toMatchObject({ brokers: ['127.0.0.1:9092'], topicPrefix: 'ulo.' });
    expect(c.management.tokens).toEqual([]);
    expect(c.security.allowPrivateNetworkUrls).toBe(false);
    expect(c.security.clockSkewSeconds).toBe(60);
  });

  it('splits comma-separated lists', () => {
    const c = loadConfig({ KAFKA_BROKERS: 'a:1,b:2', MANAGEMENT_API_TOKENS: 't1, t2,' });
    expect(c.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(c.management.tokens).toEqual(['t1', 't2']);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['PUBLIC_BASE_URL', 'http://example.com/'],
    ['PUBLIC_BASE_URL', 'ftp://example.com'],
    ['DATABASE_URL', 'mysql://x'],
    ['KAFKA_BROKERS', '127.0.0.1'],
    ['KAFKA_TOPIC_PREFIX', 'a b'],
    ['ALLOW_PRIVATE_NETWORK_URLS', 'yes'],
    ['CLOCK_SKEW_SECONDS', '-1'],
  ])('rejects %s=%s naming the variable', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(new RegExp(`^invalid configuration: ${key} `));
  });
});
