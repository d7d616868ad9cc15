import { errors as joseErrors, exportJWK, generateKeyPair, JWK, JWSHeaderParameters } from 'jose';
import { UnsafeUrlException } from './outbound-url.policy';
import { KEY_DOCUMENT_MAX_BYTES, KeySetUnavailableException, RemoteKeySet } from './remote-key-set';
import { OutboundRequestException, SafeHttpClient } from './safe-http.client';

async function publicJwk(kid: string): Promise<JWK> {
  const { publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, alg: 'RS256' };
}

/** The safe client as the key set sees it: answers from a queue, counts the fetches. */
function fakeHttp(answer: () => Promise<unknown>) {
  const calls: { url: string; maxBodyBytes?: number }[] = [];
  const http = {
    getJson: (url: string, options: { maxBodyBytes?: number }) => {
      calls.push({ url, maxBodyBytes: options.maxBodyBytes });
      return answer();
    },
  };
  return { http: http as unknown as SafeHttpClient, calls };
}

const header = (kid: string): JWSHeaderParameters => ({ alg: 'RS256', kid });
const token = { payload: '', signature: '' };

describe('RemoteKeySet (SPEC §2.2 key sets: cached, an unknown kid refetches at most once per cooldown)', () => {
  let now = 1_000_000;
  beforeEach(() => {
    now = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
  });
  afterEach(() => jest.restoreAllMocks());

  it('fetches once through the safe client with the 256 KiB cap, then answers from the cache', async () => {
    const keys = [await publicJwk('k1')];
    const { http, calls } = fakeHttp(async () => ({ keys }));
    const set = new RemoteKeySet(http, 'https://idp.example.com/keys', { cooldownMs: 30_000, maxAgeMs: 600_000 });
    await set.getKey(header('k1'), token);
    await set.getKey(header('k1'), token);
    expect(calls).toEqual([{ url: 'https://idp.example.com/keys', maxBodyBytes: KEY_DOCUMENT_MAX_BYTES }]);
  });

  it('shares one fetch between concurrent callers', async () => {
    const keys = [await publicJwk('k1')];
    const { http, calls } = fakeHttp(() => new Promise((r) => setTimeout(() => r({ keys }), 20)));
    const set = new RemoteKeySet(http, 'https://idp.example.com/keys', { cooldownMs: 30_000, maxAgeMs: 600_000 });
    await Promise.all(Array.from({ length: 10 }, () => set.getKey(header('k1'), token)));
    expect(calls).toHaveLength(1);
  });

  it('refetches on an unknown kid once, then not again within the cooldown', async () => {
    const keys = [await publicJwk('k1')];
    const { http, calls } = fakeHttp(async () => ({ keys }));
    const set = new RemoteKeySet(http, 'https://idp.example.com/keys', { cooldownMs: 30_000, maxAgeMs: 600_000 });
    await set.getKey(header('k1'), token);
    now += 31_000;
    keys.push(await publicJwk('k2'));
    await set.getKey(header('k2'), token);
    expect(calls).toHaveLength(2);
    for (let i = 0; i < 5; i++) {
      await expect(set.getKey(header(`bogus-${i}`), token)).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
    }
    expect(calls).toHaveLength(2);
    now += 30_000;
    await expect(set.getKey(header('bogus'), token)).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
    expect(calls).toHaveLength(3);
  });

  it('refetches a key set older than the max age', async () => {
    const keys = [await publicJwk('k1')];
    const { http, calls } = fakeHttp(async () => ({ keys }));
    const set = new RemoteKeySet(http, 'https://idp.example.com/keys', { cooldownMs: 30_000, maxAgeMs: 600_000 });
    await set.getKey(header('k1'), token);
    now += 600_000;
    await set.getKey(header('k1'), token);
    expect(calls).toHaveLength(2);
  });

  it.each([
    ['a refused URL', () => Promise.reject(new UnsafeUrlException('must use https'))],
    ['a timeout', () => Promise.reject(new OutboundRequestException('timed out after 5000 ms', 'ETIMEDOUT'))],
    ['an oversized body', () => Promise.reject(new OutboundRequestException('too big', 'EBODYTOOLARGE'))],
    ['a document that is not a key set', () => Promise.resolve({ keys: 'none' })],
    ['null', () => Promise.resolve(null)],
  ])('reports %s as the key set being unavailable, and tries again on the next request', async (_what, answer) => {
    const { http, calls } = fakeHttp(answer);
    const set = new RemoteKeySet(http, 'https://idp.example.com/keys', { cooldownMs: 30_000, maxAgeMs: 600_000 });
    await expect(set.getKey(header('k1'), token)).rejects.toBeInstanceOf(KeySetUnavailableException);
    await expect(set.getKey(header('k1'), token)).rejects.toThrow(/^https:\/\/idp\.example\.com\/keys: /);
    expect(calls).toHaveLength(2);
  });
});
