import { safeLookup } from './safe-lookup';

function resolve(host: string, allowPrivate: boolean): Promise<{ err: NodeJS.ErrnoException | null; address: unknown }> {
  return new Promise((r) => safeLookup(allowPrivate)(host, {}, (err, address) => r({ err, address })));
}

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
});
