import { loggable, withoutUrlCredentials } from './record-management-call.usecase';

describe('loggable: a Management API body as the audit log keeps it', () => {
  it('replaces the values of credential members at any depth, and of custom headers', () => {
    expect(
      loggable({
        name: 'SIEM',
        sink: {
          httpEndpoint: 'https://siem.example.com/in',
          httpAuthorization: 'Bearer abc',
          httpCustomHeaders: [{ header: 'X-Api-Key', value: 'k-123' }],
        },
        options: { client_secret: 's', issuer: 'https://idp.example.com', nested: [{ password: 'p', private_key: 'k', id_token: 't' }] },
      }),
    ).toEqual({
      name: 'SIEM',
      sink: {
        httpEndpoint: 'https://siem.example.com/in',
        httpAuthorization: '[redacted]',
        httpCustomHeaders: [{ header: 'X-Api-Key', value: '[redacted]' }],
      },
      options: {
        client_secret: '[redacted]',
        issuer: 'https://idp.example.com',
        nested: [{ password: '[redacted]', private_key: '[redacted]', id_token: '[redacted]' }],
      },
    });
  });

  it.each([['key'], ['api_key'], ['apiKey'], ['api-key'], ['X-Api-Key'], ['credentials'], ['credential'], ['access_token'], ['signature'], ['passwd']])(
    'replaces the value of a member named %s',
    (name) => {
      expect(loggable({ options: { [name]: 'v4lue', issuer: 'https://idp.example.com' } })).toEqual({
        options: { [name]: '[redacted]', issuer: 'https://idp.example.com' },
      });
    },
  );

  it('keeps members that only look alike: keys lists, key ids, names', () => {
    expect(loggable({ keys: ['a'], kid: 'k1', monkey: 'm', name: 'SIEM', token_endpoint_auth_method: 'none' })).toEqual({
      keys: ['a'],
      kid: 'k1',
      monkey: 'm',
      name: 'SIEM',
      token_endpoint_auth_method: 'none',
    });
  });

  it('replaces credentials in URLs: query-string tokens and keys, and the password of user information', () => {
    expect(
      loggable({
        sink: { httpEndpoint: 'https://siem.example.com/in?token=t-1&source=ulo&api_key=k-2#access_token=t-3' },
        backchannel_logout_urls: ['https://app.example.com/bcl?sig=s-4&code=x', 'https://admin:pa55@app.example.com/bcl'],
      }),
    ).toEqual({
      sink: { httpEndpoint: 'https://siem.example.com/in?token=[redacted]&source=ulo&api_key=[redacted]#access_token=[redacted]' },
      backchannel_logout_urls: ['https://app.example.com/bcl?sig=[redacted]&code=x', 'https://admin:[redacted]@app.example.com/bcl'],
    });
    expect(withoutUrlCredentials('plain text, a=b and user@example.com')).toBe('plain text, a=b and user@example.com');
  });

  it('logs a query with its credentials replaced, repeated parameters included', () => {
    expect(loggable({ take: '10', token: 'abc', access_token: ['a', 'b'], from: 'x' })).toEqual({
      take: '10',
      token: '[redacted]',
      access_token: '[redacted]',
      from: 'x',
    });
  });

  it('replaces NUL, which PostgreSQL cannot store, in values and member names', () => {
    expect(loggable({ name: 'a\u0000b', ['k\u0000']: 1, literal: '\\u0000 stays text' })).toEqual({
      name: 'a\ufffdb',
      ['k\ufffd']: 1,
      literal: '\\u0000 stays text',
    });
  });

  it('logs a body nested deeper than 32 levels as that fact only, without recursing into it', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100000; i++) deep = [deep];
    expect(loggable({ sink: deep })).toEqual({ omitted: 'nested deeper than 32 levels' });
  });

  it('keeps a removed credential visible as null, and dates as their JSON strings', () => {
    expect(loggable({ sink: { httpAuthorization: null }, created_at: new Date('2026-11-25T00:00:00Z') })).toEqual({
      sink: { httpAuthorization: null },
      created_at: '2026-11-25T00:00:00.000Z',
    });
  });

  it('logs no body as null, and a body over 8 KiB as its size only', () => {
    expect(loggable(undefined)).toBeNull();
    expect(loggable('')).toBeNull();
    const big = { notes: 'x'.repeat(9000) };
    expect(loggable(big)).toEqual({ omitted: 'too large to log', bytes: Buffer.byteLength(JSON.stringify(big)) });
  });
});
