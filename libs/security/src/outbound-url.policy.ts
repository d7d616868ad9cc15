import { BlockList, isIP } from 'node:net';

/** Loopback, private, link-local, CGNAT, documentation, multicast and reserved ranges: never a target in production. */
const privateRanges = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  privateRanges.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  // Unspecified, loopback and the deprecated IPv4-compatible addresses (::a.b.c.d).
  ['::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 32],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  privateRanges.addSubnet(net, bits, 'ipv6');
}

export class UnsafeUrlException extends Error {}

/** The 16 bytes of an IPv6 address (a trailing dotted quad allowed), or null if it is not one. */
function ipv6Bytes(address: string): number[] | null {
  if (isIP(address) !== 6) return null;
  let text = address;
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad[1].split('.').map(Number);
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groupsOf = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = groupsOf(head);
  const right = groupsOf(tail);
  const groups = tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/**
 * The IPv4 address an IPv6 address carries and would reach: IPv4-mapped (::ffff:a.b.c.d),
 * IPv4-translated NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::).
 */
function embeddedIpv4(address: string): string | null {
  const b = ipv6Bytes(address);
  if (!b) return null;
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return b.slice(12).join('.');
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return b.slice(12).join('.');
  if (b[0] === 0x20 && b[1] === 0x02) return b.slice(2, 6).join('.');
  return null;
}

/** Whether an IP address (v4 or v6, a zone id allowed) lies in a range this service never calls. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return false;
  if (family === 4) return privateRanges.check(bare, 'ipv4');
  const v4 = embeddedIpv4(bare);
  if (v4 !== null && privateRanges.check(v4, 'ipv4')) return true;
  return privateRanges.check(bare, 'ipv6');
}

/** The host of a URL as the network sees it: no IPv6 brackets, no trailing root dot, lower case. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
}

/**
 * SPEC §4 URL rules, checked without the network (at registration, and again before every call):
 * absolute https URL without fragment or credentials; "localhost" or an IP literal in a private,
 * loopback or link-local range (in any spelling the URL parser accepts) refused unless allowed.
 * Host names are checked once resolved, at connect time (safeLookup).
 */
export function assertSafeUrlSyntax(raw: string, allowPrivateNetwork: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeUrlException('must be an absolute URL');
  }
  if (raw.includes('#')) throw new UnsafeUrlException('must not contain a fragment');
  if (url.username || url.password) throw new UnsafeUrlException('must not contain credentials');
  const allowed = allowPrivateNetwork ? ['https:', 'http:'] : ['https:'];
  if (!allowed.includes(url.protocol)) throw new UnsafeUrlException('must use https');
  if (!allowPrivateNetwork) {
    const host = hostOf(url);
    if (host === '' || host === 'localhost' || host.endsWith('.localhost') || isPrivateAddress(host)) {
      throw new UnsafeUrlException('must not point at a loopback or private network address');
    }
  }
  return url;
}
