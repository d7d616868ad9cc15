import { loggable } from './record-management-call.usecase';

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
