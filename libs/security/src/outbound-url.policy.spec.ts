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

  it('allows http and loopback when private network URLs are allowed, never a fragment', () => {
    expect(assertSafeUrlSyntax('http://127.0.0.1:4000/bcl', true).port).toBe('4000');
    expect(() => assertSafeUrlSyntax('http://127.0.0.1:4000/bcl#x', true)).toThrow(/fragment/);
    expect(() => assertSafeUrlSyntax('ftp://127.0.0.1/', true)).toThrow(/https/);
  });

  it.each([
    ['127.0.0.1', true],
    ['10.0.0.1', true],
    ['fd00::1', true],
    ['8.8.8.8', false],
    ['2001:4860:4860::8888', false],
  ])('classifies %s as private=%s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });
});
