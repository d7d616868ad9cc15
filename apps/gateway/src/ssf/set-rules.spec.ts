import { checkSetClaims, checkSetHeader } from './set-rules';

const now = 1_800_000_000;
const expected = {
  issuer: 'https://acme.okta.com',
  audience: 'https://logout.example.com/ssf/push/connection/acme-okta',
  clockSkewSeconds: 60,
  nowSeconds: now,
};
const good = { iss: expected.issuer, aud: expected.audience, iat: now, jti: 'set-24c63fb56f', events: {} };

/** The err and description a rule throws, or null when it passes. */
function refusal(check: () => unknown): { status: number; err: string; description: string } | null {
  try {
    check();
    return null;
  } catch (e) {
    const { status, err, description } = e as { status: number; err: string; description: string };
    return { status, err, description };
  }
}

describe('SET header rules (RFC 8417 §2.3, SPEC §9)', () => {
  it.each([
    [{ alg: 'RS256', kid: 'k1', typ: 'secevent+jwt' }],
    [{ alg: 'RS256', typ: 'application/secevent+jwt' }],
    [{ alg: 'ES256', typ: 'SECEVENT+JWT' }],
    [{ alg: 'PS256' }],
    [{ alg: 'EdDSA', kid: 'k 2' }],
  ])('accepts %j', (header) => expect(refusal(() => checkSetHeader(header))).toBeNull());

  it.each([
    ['typ JWT', { alg: 'RS256', typ: 'JWT' }, 'invalid_request', 'typ must be secevent+jwt'],
    ['typ logout+jwt', { alg: 'RS256', typ: 'logout+jwt' }, 'invalid_request', 'typ must be secevent+jwt'],
    ['typ not a string', { alg: 'RS256', typ: 7 }, 'invalid_request', 'typ must be secevent+jwt'],
    ['an encrypted SET', { alg: 'RSA-OAEP', enc: 'A256GCM', typ: 'secevent+jwt' }, 'invalid_request', 'encrypted SETs are not accepted'],
    ['unsigned (alg none)', { alg: 'none', typ: 'secevent+jwt' }, 'invalid_key', 'alg "none" is not allowed'],
    ['a shared-secret alg', { alg: 'HS256' }, 'invalid_key', 'alg "HS256" is not allowed'],
    ['no alg', {}, 'invalid_key', 'alg is not allowed'],
    ['an alg that is no algorithm, not quoted', { alg: 'RS256\r\nX-Injected: 1' }, 'invalid_key', 'alg is not allowed'],
    ['a prototype property name as alg', { alg: 'constructor' }, 'invalid_key', 'alg is not allowed'],
    ['an empty kid', { alg: 'RS256', kid: '' }, 'invalid_key', 'kid is malformed'],
    ['a kid with NUL', { alg: 'RS256', kid: 'k\u0000' }, 'invalid_key', 'kid is malformed'],
    ['an overlong kid', { alg: 'RS256', kid: 'k'.repeat(257) }, 'invalid_key', 'kid is malformed'],
    ['a kid that is no string', { alg: 'RS256', kid: 12 }, 'invalid_key', 'kid is malformed'],
  ])('refuses %s', (_name, header, err, description) => {
    expect(refusal(() => checkSetHeader(header as never))).toEqual({ status: 400, err, description });
  });
});

describe('SET claim rules (RFC 8417 §2.2, SPEC §9)', () => {
  it('accepts an Okta-shaped SET, with aud as a string or in an array, and returns it', () => {
    expect(checkSetClaims(good, expected)).toEqual(good);
    expect(refusal(() => checkSetClaims({ ...good, aud: ['https://other.example.com', expected.audience] }, expected))).toBeNull();
  });

  it.each([
    ['a SET issued 59 s ahead (within the skew)', { iat: now + 59 }],
    ['a SET 15 minutes and 59 s old (within the skew)', { iat: now - 900 - 59 }],
    ['a jti of 256 characters', { jti: 'j'.repeat(256) }],
  ])('accepts %s', (_name, change) => expect(refusal(() => checkSetClaims({ ...good, ...change }, expected))).toBeNull());

  it.each([
    ['another iss', { iss: 'https://evil.okta.com' }, 'invalid_issuer', 'iss is not the issuer of this connection'],
    ['no iss', { iss: undefined }, 'invalid_issuer', 'iss is not the issuer of this connection'],
    ['another aud', { aud: 'https://logout.example.com/ssf/push/connection/other' }, 'invalid_audience', 'aud is not the audience of this connection'],
    ['an aud array without ours', { aud: ['https://a.example.com'] }, 'invalid_audience', 'aud is not the audience of this connection'],
    ['no aud', { aud: undefined }, 'invalid_audience', 'aud is not the audience of this connection'],
    ['no iat', { iat: undefined }, 'invalid_request', 'iat is required'],
    ['iat not a number', { iat: '1800000000' }, 'invalid_request', 'iat is required'],
    ['iat in the future beyond the skew', { iat: now + 61 }, 'invalid_request', 'iat is in the future'],
    ['iat older than 15 minutes beyond the skew', { iat: now - 900 - 61 }, 'invalid_request', 'the SET is older than 15 minutes (iat)'],
    ['no jti', { jti: undefined }, 'invalid_request', 'jti is required'],
    ['an empty jti', { jti: '' }, 'invalid_request', 'jti is required'],
    ['a jti with a control character', { jti: 'a\u001fb' }, 'invalid_request', 'jti is malformed'],
    ['an overlong jti', { jti: 'j'.repeat(257) }, 'invalid_request', 'jti is malformed'],
  ])('refuses %s', (_name, change, err, description) => {
    expect(refusal(() => checkSetClaims({ ...good, ...change } as never, expected))).toEqual({ status: 400, err, description });
  });
});
