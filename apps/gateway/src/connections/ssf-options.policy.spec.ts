import type { StoredSsfOptions } from '@ulo/persistence';
import { planSsfSecrets, validateSsfOptions, type SsfOptionsInput } from './ssf-options.policy';

const defaults = { 'session-revoked': 'logout', 'credential-change': 'revoke-refresh-tokens' };
const minimal = { issuer: 'https://acme.okta.com', audience: 'https://logout.example.com/ssf/push/connection/acme', push_authorization: 'Bearer s3cret' };

function refusal(check: () => unknown): string | null {
  try {
    check();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

describe('options.ssf validation (SPEC §9)', () => {
  it.each([
    ['the minimal settings, with the default actions', minimal, { ...minimal, actions: defaults }],
    [
      'client credentials and actions',
      { ...minimal, client_id: '0oa1', client_secret: 'cs', actions: { 'credential-change': 'log-only' } },
      { ...minimal, client_id: '0oa1', client_secret: 'cs', actions: { 'session-revoked': 'logout', 'credential-change': 'log-only' } },
    ],
    ['a PATCH without the push authorization', { issuer: minimal.issuer, audience: 'aud' }, { issuer: minimal.issuer, audience: 'aud', actions: defaults }],
    ['null optional members, as not given', { ...minimal, client_id: null, client_secret: null, actions: null }, { ...minimal, actions: defaults }],
    ['each credential-change action', { ...minimal, actions: { 'credential-change': 'logout', 'session-revoked': 'logout' } }, { ...minimal, actions: { 'session-revoked': 'logout', 'credential-change': 'logout' } }],
    ['poll delivery (RFC 8936)', { ...minimal, delivery: 'poll' }, { ...minimal, actions: defaults, delivery: 'poll' }],
  ])('accepts %s', (_name, raw, expected) => {
    // delivery: "push" unless given.
    expect(validateSsfOptions(raw, false)).toEqual({ delivery: 'push', ...expected });
  });

  it.each([
    ['not an object', 'https://acme.okta.com', 'options.ssf must be an object'],
    ['no issuer', { audience: 'a', push_authorization: 'x' }, 'options.ssf.issuer is required: the SSF transmitter issuer URL'],
    ['an issuer that is no URL', { ...minimal, issuer: 'acme.okta.com' }, 'options.ssf.issuer must be an absolute URL'],
    ['an http issuer', { ...minimal, issuer: 'http://acme.okta.com' }, 'options.ssf.issuer must use https'],
    ['a private issuer', { ...minimal, issuer: 'https://10.0.0.1' }, 'options.ssf.issuer must not point at a loopback or private network address'],
    ['an issuer with a fragment', { ...minimal, issuer: 'https://acme.okta.com/#x' }, 'options.ssf.issuer must not contain a fragment'],
    ['no audience', { ...minimal, audience: undefined }, 'options.ssf.audience must be a non-empty string'],
    ['an empty audience', { ...minimal, audience: '' }, 'options.ssf.audience must be a non-empty string'],
    ['an audience with a line break', { ...minimal, audience: 'a\nb' }, 'options.ssf.audience must not contain control characters'],
    ['an empty push authorization', { ...minimal, push_authorization: '' }, 'options.ssf.push_authorization must be a non-empty string'],
    [
      'a push authorization with a line break',
      { ...minimal, push_authorization: 'Bearer a\r\nX: y' },
      'options.ssf.push_authorization must be printable ASCII without leading or trailing spaces (it is an HTTP header value)',
    ],
    [
      'a push authorization with a trailing space',
      { ...minimal, push_authorization: 'Bearer a ' },
      'options.ssf.push_authorization must be printable ASCII without leading or trailing spaces (it is an HTTP header value)',
    ],
    ['an overlong push authorization', { ...minimal, push_authorization: 'x'.repeat(4097) }, 'options.ssf.push_authorization must be at most 4096 characters'],
    ['a client id that is no string', { ...minimal, client_id: 7 }, 'options.ssf.client_id must be a non-empty string'],
    ['an unknown member (a misspelt secret)', { ...minimal, push_authorisation: 'x' }, 'options.ssf has unknown member(s): push_authorisation'],
    ['a sealed value given', { ...minimal, push_authorization_sealed: 'v2.a.b.c.d' }, 'options.ssf has unknown member(s): push_authorization_sealed'],
    ['what GET shows, sent back', { ...minimal, push_authorization_set: true }, 'options.ssf has unknown member(s): push_authorization_set'],
    ['actions not an object', { ...minimal, actions: 'logout' }, 'options.ssf.actions must be an object'],
    ['an unknown action', { ...minimal, actions: { 'credential-change': 'ignore' } }, 'options.ssf.actions.credential-change must be one of: revoke-refresh-tokens, logout, log-only'],
    ['session-revoked other than logout', { ...minimal, actions: { 'session-revoked': 'log-only' } }, 'options.ssf.actions.session-revoked must be one of: logout'],
    ['an unknown delivery method', { ...minimal, delivery: 'webhook' }, 'options.ssf.delivery must be one of: push, poll'],
    ['an unknown event in actions', { ...minimal, actions: { 'token-claims-change': 'logout' } }, 'options.ssf.actions has unknown member(s): token-claims-change'],
  ])('refuses %s', (_name, raw, message) => {
    expect(refusal(() => validateSsfOptions(raw, false))).toBe(message);
  });

  it('allows a loopback http issuer where private network URLs are allowed (development, tests)', () => {
    expect(validateSsfOptions({ ...minimal, issuer: 'http://127.0.0.1:8080' }, true).issuer).toBe('http://127.0.0.1:8080');
  });
});

describe('options.ssf secrets on create and PATCH (SPEC §6, §9)', () => {
  const stored: StoredSsfOptions = {
    issuer: 'https://acme.okta.com',
    audience: 'aud',
    push_authorization_sealed: 'sealed-push',
    client_id: '0oa1',
    client_secret_sealed: 'sealed-secret',
    actions: { 'session-revoked': 'logout', 'credential-change': 'revoke-refresh-tokens' },
  };
  const given = (more: Partial<SsfOptionsInput>): SsfOptionsInput => ({ issuer: stored.issuer, audience: 'aud', actions: stored.actions, delivery: 'push', ...more });

  it.each([
    ['create with the push authorization', given({ push_authorization: 'p' }), null, { pushAuthorization: { seal: 'p' }, clientSecret: null }],
    ['create with client credentials', given({ push_authorization: 'p', client_id: 'c', client_secret: 's' }), null, { pushAuthorization: { seal: 'p' }, clientSecret: { seal: 's' } }],
    ['a PATCH that gives no secret: both kept', given({ client_id: '0oa1' }), stored, { pushAuthorization: { keep: 'sealed-push' }, clientSecret: { keep: 'sealed-secret' } }],
    ['a PATCH that replaces the push authorization', given({ push_authorization: 'p2', client_id: '0oa1' }), stored, { pushAuthorization: { seal: 'p2' }, clientSecret: { keep: 'sealed-secret' } }],
    ['a PATCH without client credentials: removed', given({}), stored, { pushAuthorization: { keep: 'sealed-push' }, clientSecret: null }],
    ['a PATCH with a new client and its secret', given({ client_id: '0oa2', client_secret: 's2' }), stored, { pushAuthorization: { keep: 'sealed-push' }, clientSecret: { seal: 's2' } }],
    [
      'a new issuer with every secret again',
      given({ issuer: 'https://other.okta.com', push_authorization: 'p', client_id: '0oa1', client_secret: 's' }),
      stored,
      { pushAuthorization: { seal: 'p' }, clientSecret: { seal: 's' } },
    ],
    ['a new issuer without client credentials', given({ issuer: 'https://other.okta.com', push_authorization: 'p' }), stored, { pushAuthorization: { seal: 'p' }, clientSecret: null }],
  ])('%s', (_name, input, before, expected) => {
    expect(planSsfSecrets(input, before)).toEqual(expected);
  });

  it.each([
    ['create without the push authorization', given({}), null, 'options.ssf.push_authorization is required: the Authorization header the transmitter pushes with'],
    ['create with a client id alone', given({ push_authorization: 'p', client_id: 'c' }), null, 'options.ssf.client_id and options.ssf.client_secret must be set together'],
    ['a client secret alone', given({ push_authorization: 'p', client_secret: 's' }), null, 'options.ssf.client_secret and options.ssf.client_id must be set together'],
    [
      'a new issuer without the secrets',
      given({ issuer: 'https://evil.example.com', client_id: '0oa1' }),
      stored,
      "changing options.ssf.issuer sends the connection's credentials elsewhere: give options.ssf.push_authorization and options.ssf.client_secret again",
    ],
    [
      'a new issuer without the client secret',
      given({ issuer: 'https://evil.example.com', push_authorization: 'p', client_id: '0oa1' }),
      stored,
      "changing options.ssf.issuer sends the connection's credentials elsewhere: give options.ssf.client_secret again",
    ],
    ['a new client id without its secret', given({ client_id: '0oa2' }), stored, 'changing options.ssf.client_id needs options.ssf.client_secret again'],
    [
      'a client id where none was stored, without a secret',
      given({ client_id: '0oa1' }),
      { ...stored, client_id: undefined, client_secret_sealed: undefined },
      'options.ssf.client_id and options.ssf.client_secret must be set together',
    ],
  ])('refuses %s', (_name, input, before, message) => {
    expect(refusal(() => planSsfSecrets(input, before))).toBe(message);
  });
});
