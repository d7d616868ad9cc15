import type { LookupAddress } from 'node:dns';
import { Resolver, safeLookup } from './safe-lookup';

function resolve(
  host: string,
  allowPrivate: boolean,
  options: { all?: boolean } = {},
  resolver?: Resolver,
): Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }> {
  return new Promise((r) =>
    safeLookup(allowPrivate, resolver)(host, options, (err, address, family) => r({ err, address, family })),
  );
}

/** A resolver that answers from a table, as a hostile DNS could. */
const answering =
  (table: Record<string, LookupAddress[]>): Resolver =>
  (hostname, _options, callback) =>
    callback(null, table[hostname] ?? []);

describe('safe lookup (SPEC §4: the resolved address is checked at delivery time)', () => {
  it('refuses a name that resolves to loopback when private networks are not allowed', async () => {
    const { err } = await resolve('localhost', false);
    expect(err?.code).toBe('EPRIVATEADDRESS');
    expect(err?.message).toMatch(/localhost resolves to a private network address/);
  });

  it('lets it through when private networks are allowed (development, tests)', async () => {
    const { err, address } = await resolve('localhost', true);
    expect(err).toBeNull();
    expect(['127.0.0.1', '::1']).toContain(address);
  });

  it.each([
    ['a metadata address', [{ address: '169.254.169.254', family: 4 }]],
    ['one private address among public ones', [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.1', family: 4 }]],
    ['an IPv4-mapped loopback address', [{ address: '::ffff:127.0.0.1', family: 6 }]],
    ['a link-local IPv6 address with a zone', [{ address: 'fe80::1%eth0', family: 6 }]],
    ['the unspecified address', [{ address: '0.0.0.0', family: 4 }]],
  ])('refuses a name that resolves to %s', async (_what, addresses) => {
    const { err } = await resolve('keys.example.com', false, {}, answering({ 'keys.example.com': addresses }));
    expect(err?.code).toBe('EPRIVATEADDRESS');
  });

  it('connects to exactly the addresses it checked (no second resolution)', async () => {
    let asked = 0;
    const resolver: Resolver = (_h, _o, callback) => {
      asked++;
      callback(null, [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1::1', family: 6 },
      ]);
    };
    expect(await resolve('keys.example.com', false, {}, resolver)).toEqual({ err: null, address: '93.184.216.34', family: 4 });
    expect((await resolve('keys.example.com', false, { all: true }, resolver)).address).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ]);
    expect(asked).toBe(2);
  });

  it('answers ENOTFOUND for a name without addresses', async () => {
    const { err } = await resolve('empty.example.com', false, {}, answering({}));
    expect(err?.code).toBe('ENOTFOUND');
  });
});
