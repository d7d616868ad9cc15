import { sourceOf } from './source-address';

describe('sourceOf: what the unverified-traffic limits count a request against', () => {
  it.each([
    ['an IPv4 address', '203.0.113.7', '203.0.113.7'],
    ['an IPv4-mapped IPv6 address, as IPv4', '::ffff:203.0.113.7', '203.0.113.7'],
    ['an IPv6 address, by its /64', '2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['a compressed IPv6 address, by its /64', '2001:db8::1', '2001:db8:0:0::/64'],
    ['leading zeros and upper case, normalised', '2001:0DB8:0001:0002::1', '2001:db8:1:2::/64'],
    ['loopback IPv6', '::1', '0:0:0:0::/64'],
    ['an IPv6 address with an embedded IPv4 tail', '64:ff9b::192.0.2.33', '64:ff9b:0:0::/64'],
    ['an IPv6 address with a zone', 'fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['nothing', undefined, 'unknown'],
    ['junk a proxy forwarded, shortened', 'x'.repeat(100), `other:${'x'.repeat(64)}`],
  ])('%s', (_name, ip, expected) => {
    expect(sourceOf(ip)).toBe(expected);
  });

  it('counts two hosts of one /64 as one source and two /64s as two', () => {
    expect(sourceOf('2001:db8:1:2::a')).toBe(sourceOf('2001:db8:1:2:ffff::b'));
    expect(sourceOf('2001:db8:1:2::a')).not.toBe(sourceOf('2001:db8:1:3::a'));
  });
});
