import { checkClaims, checkHeader } from './token-rules';

const now = 1_800_000_000;
const expect_ = {
  issuer: 'https://acme.okta.com',
  subject: '0oa1client',
  audience: 'https://logout.example.com/oauth/global-token-revocation/connection/acme',
  clockSkewSeconds: 60,
  nowSeconds: now,
};
const good = { iss: expect_.issuer, sub: expect_.subject, aud: expect_.audience, jti: 'j1', iat: now, nbf: now - 300, exp: now + 300 };

describe('GTR token rules (SPEC §2)', () => {
  it.each([
    [{ alg: 'RS256', typ: 'global-token-revocation+jwt' }],
    [{ alg: 'ES256', typ: 'JWT' }],
    [{ alg: 'PS256' }],
    [{ alg: 'EdDSA', typ: 'application/global-token-revocation+jwt' }],
  ])('accepts header %j', (h) => expect(() => checkHeader(h)).not.toThrow());

  it.each([
    [{ alg: 'none' }, /alg "none" is not allowed/],
    [{ alg: 'HS256', typ: 'JWT' }, /alg "HS256" is not allowed/],
    [{ alg: 'RS256', typ: 'logout+jwt' }, /unexpected typ/],
    [{ alg: 'RS256', typ: 'at+jwt' }, /unexpected typ/],
    [{ alg: 'RS256', kid: 'k\u0000' }, /kid is malformed/],
    [{ alg: 'RS256', kid: 'k\u00e9' }, /kid is malformed/],
    [{ alg: 'RS256', kid: '' }, /kid is malformed/],
    [{ alg: 'RS256', kid: 'k'.repeat(257) }, /kid is malformed/],
  ])('rejects header %j', (h, message) => expect(() => checkHeader(h)).toThrow(message));

  // Hostile traffic (SPEC §2): header fields of any type or text give a 401 that never quotes them.
  it.each([
    ['typ with a control character', { alg: 'RS256', typ: 'JWT\u0007' }],
    ['typ with a non-Latin-1 character', { alg: 'RS256', typ: 'J\u2028WT' }],
    ['typ not a string', { alg: 'RS256', typ: 7 }],
    ['typ an object', { alg: 'RS256', typ: { toLowerCase: 1 } }],
    ['alg with a control character', { alg: 'RS256\r\nX-Injected: 1' }],
    ['alg with a non-Latin-1 character', { alg: 'RS\u0100256' }],
    ['alg not a string', { alg: ['RS256'] }],
    ['alg a prototype property name', { alg: 'constructor' }],
    ['kid not a string', { alg: 'RS256', kid: 12 }],
  ])('rejects %s without quoting it', (_name, h) => {
    let thrown: unknown;
    try {
      checkHeader(h as never);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ status: 401, error: 'invalid_token' });
    expect((thrown as Error).message).toMatch(/^[\x20-\x7e]+$/);
    expect((thrown as Error).message).not.toMatch(/Injected|constructor|\u2028/);
  });

  it('accepts an Okta-shaped token, and aud given as an array', () => {
    expect(() => checkClaims(good, expect_)).not.toThrow();
    expect(() => checkClaims({ ...good, aud: ['other', expect_.audience] }, expect_)).not.toThrow();
  });

  it.each([
    ['wrong iss', { iss: 'https://evil.okta.com' }, /iss does not match/],
    ['wrong sub', { sub: 'someone' }, /sub does not match/],
    ['wrong aud', { aud: 'https://logout.example.com/oauth/global-token-revocation/connection/other' }, /aud is not this endpoint/],
    ['no exp', { exp: undefined }, /exp is required/],
    ['expired beyond skew', { iat: now - 700, nbf: now - 1000, exp: now - 61 }, /token expired/],
    ['no iat', { iat: undefined }, /iat is required/],
    ['iat in the future', { iat: now + 120, exp: now + 400 }, /iat is in the future/],
    ['nbf in the future', { nbf: now + 120 }, /not yet valid/],
    ['lifetime over 15 minutes', { exp: now + 901 }, /lifetime exceeds 15 minutes/],
    ['no jti', { jti: undefined }, /jti is required/],
    ['a jti with NUL', { jti: 'a\u0000b' }, /jti is malformed/],
    ['an overlong jti', { jti: 'j'.repeat(257) }, /jti is malformed/],
  ])('rejects %s', (_name, change, message) => {
    expect(() => checkClaims({ ...good, ...change }, expect_)).toThrow(message);
  });

  it('tolerates clock skew within CLOCK_SKEW_SECONDS', () => {
    expect(() => checkClaims({ ...good, iat: now + 59, exp: now + 300 }, expect_)).not.toThrow();
    expect(() => checkClaims({ ...good, iat: now - 600, nbf: now - 600, exp: now - 59 }, expect_)).not.toThrow();
  });
});
