import { assertSafeUrlSyntax, isPrivateAddress } from './outbound-url.policy';

describe('outbound URL policy (SPEC §4 URL rules)', () => {
  it.each([
    ['https://app.example.com/backchannel', false],
    ['https://93.184.216.34/logout', false],
  ])('accepts %s', (url, allow) => {
    expect(assertSafeUrlSyntax(url, allow).href).toBe(url);
  });

  it.each([
    ['not a url', 'absolute URL'],
    ['https://app.example.com/logout#frag', 'fragment'],
    ['https://app.example.com/logout#', 'fragment'],
    ['http://app.example.com/logout', 'https'],
    ['ftp://app.example.com/logout', 'https'],
    ['https://user:pw@app.example.com/', 'credentials'],
    ['https://127.0.0.1/logout', 'private'],
    ['https://localhost/logout', 'private'],
    ['https://10.1.2.3/logout', 'private'],
    ['https://192.168.0.10/logout', 'private'],
    ['https://172.20.0.1/logout', 'private'],
    ['https://169.254.169.254/latest', 'private'],
    ['https://[::1]/logout', 'private'],
    ['https://[::ffff:127.0.0.1]/logout', 'private'],
  ])('refuses %s (%s) in production mode', (url, reason) => {
    expect(() => assertSafeUrlSyntax(url, false)).toThrow(new RegExp(reason));
  });

  // Every spelling of a refused address that the URL parser accepts, and the ranges an IPv6 address
  // can smuggle an IPv4 address through: refused without the network, so before any socket exists.
  it.each([
    'https://0.0.0.0/keys',
    'https://0/keys',
    'https://127.1/keys',
    'https://2130706433/keys',
    'https://0x7f.1/keys',
    'https://%31%32%37.0.0.1/keys',
    'https://10.0.0.1/keys',
    'https://100.64.0.1/keys',
    'https://169.254.169.254/latest/meta-data/',
    'https://198.18.0.1/keys',
    'https://203.0.113.7/keys',
    'https://224.0.0.1/keys',
    'https://255.255.255.255/keys',
    'https://[::]/keys',
    'https://[::1]:8443/keys',
    'https://[0:0:0:0:0:0:0:1]/keys',
    'https://[::ffff:7f00:1]/keys',
    'https://[::ffff:169.254.169.254]/keys',
    'https://[::127.0.0.1]/keys',
    'https://[64:ff9b::10.0.0.1]/keys',
    'https://[64:ff9b::a9fe:a9fe]/keys',
    'https://[2002:a00:1::]/keys',
    'https://[2002:7f00:1::1]/keys',
    'https://[2001:0:4136:e378::1]/keys',
    'https://[fe80::1]/keys',
    'https://[fd12:3456::1]/keys',
    'https://[fec0::1]/keys',
    'https://[ff02::1]/keys',
    'https://localhost./keys',
    'https://LOCALHOST/keys',
    'https://idp.localhost/keys',
    'https://idp.localhost./keys',
  ])('refuses the IP literal or local name in %s in production mode', (url) => {
    expect(() => assertSafeUrlSyntax(url, false)).toThrow(/loopback or private network address/);
  });

  it.each([
    'https://8.8.8.8/keys',
    'https://[2606:4700:4700::1111]/keys',
    'https://[64:ff9b::808:808]/keys',
    'https://[2002:808:808::1]/keys',
    'https://idp.example.com./keys',
    'https://localhost.example.com/keys',
  ])('accepts the public %s in production mode', (url) => {
    expect(assertSafeUrlSyntax(url, false).href).toBe(url);
  });

  it('allows http and loopback when private network URLs are allowed, never a fragment', () => {
    expect(assertSafeUrlSyntax('http://127.0.0.1:4000/bcl', true).port).toBe('4000');
    expect(() => assertSafeUrlSyntax('http://127.0.0.1:4000/bcl#x', true)).toThrow(/fragment/);
    expect(() => assertSafeUrlSyntax('ftp://127.0.0.1/', true)).toThrow(/https/);
  });

  it.each([
    ['127.0.0.1', true],
    ['10.0.0.1', true],
    ['fd00::1', true],
    ['fe80::1%eth0', true],
    ['::ffff:10.1.2.3', true],
    ['::ffff:a01:203', true],
    ['64:ff9b::7f00:1', true],
    ['2002:c0a8:101::', true],
    ['8.8.8.8', false],
    ['::ffff:8.8.8.8', false],
    ['not-an-address', false],
    ['2001:4860:4860::8888', false],
  ])('classifies %s as private=%s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });
});
