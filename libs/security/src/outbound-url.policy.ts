import { BlockList, isIP } from 'node:net';

/** Loopback, private, link-local, CGNAT, multicast and reserved ranges: never a target in production. */
const privateRanges = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  privateRanges.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  privateRanges.addSubnet(net, bits, 'ipv6');
}

export class UnsafeUrlException extends Error {}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 6 && address.toLowerCase().startsWith('::ffff:')) {
    const v4 = address.slice(7);
    if (isIP(v4) === 4) return privateRanges.check(v4, 'ipv4');
  }
  return privateRanges.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * SPEC §4 URL rules, checked without the network (at registration): absolute https URL without
 * fragment or credentials; a literal private/loopback address or "localhost" refused unless allowed.
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
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (host === 'localhost' || host.endsWith('.localhost') || isPrivateAddress(host)) {
      throw new UnsafeUrlException('must not point at a loopback or private network address');
    }
  }
  return url;
}
