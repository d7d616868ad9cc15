import { ZodError } from 'zod';
import type { LogoutRequested, SessionsTerminated } from '@ulo/contracts';
import { OutboxRepository } from '@ulo/persistence';
import { OutboxWriter, OversizedEventException } from './outbox.writer';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const logoutRequested = (overrides: Partial<LogoutRequested> = {}): LogoutRequested => ({
  requestId: 'lr_1',
  initiator: 'idp-logout',
  userIds: ['auth0|ann'],
  connection: { id: 'con_1', name: 'acme-okta' },
  sessions: { mode: 'all' },
  refreshTokens: { mode: 'one', id: 'rt_1' },
  acceptedAt: '2026-11-25T12:00:00.000Z',
  ...overrides,
});

/** STYLE §3: the producer validates and envelopes every event before it is written. */
describe('OutboxWriter.event', () => {
  const writer = new OutboxWriter('tenant-a.', new OutboxRepository());

  it('builds the envelope (type without the version suffix, version 1, the correlation id) on the prefixed topic, keyed as asked', () => {
    const before = Date.now();
    const row = writer.event('logout-requested.v1', 'auth0|ann', 'lr_1', logoutRequested());

    expect(row.topic).toBe('tenant-a.logout-requested.v1');
    expect(row.key).toBe('auth0|ann');
    const envelope = JSON.parse(row.value);
    expect(envelope).toEqual({
      eventId: expect.stringMatching(UUID),
      type: 'logout-requested',
      version: 1,
      occurredAt: expect.any(String),
      correlationId: 'lr_1',
      payload: {
        requestId: 'lr_1',
        initiator: 'idp-logout',
        userIds: ['auth0|ann'],
        connection: { id: 'con_1', name: 'acme-okta' },
        sessions: { mode: 'all' },
        refreshTokens: { mode: 'one', id: 'rt_1' },
        acceptedAt: '2026-11-25T12:00:00.000Z',
      },
    });
    expect(Object.keys(envelope)).toEqual(['eventId', 'type', 'version', 'occurredAt', 'correlationId', 'payload']);
    expect(envelope.occurredAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(envelope.occurredAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(envelope.occurredAt)).toBeLessThanOrEqual(Date.now());
  });

  it('envelopes sessions-terminated.v1 as type sessions-terminated, version 1', () => {
    const payload: SessionsTerminated = {
      requestId: 'lr_2',
      initiator: 'session-revoked',
      chunk: 0,
      allSessions: false,
      sessions: [{ sessionId: 's_1', userId: 'auth0|bob', clientIds: ['app-1', 'app-2'] }],
    };
    const row = writer.event('sessions-terminated.v1', 'auth0|bob', 'lr_2', payload);

    expect(row.topic).toBe('tenant-a.sessions-terminated.v1');
    expect(row.key).toBe('auth0|bob');
    expect(JSON.parse(row.value)).toMatchObject({ type: 'sessions-terminated', version: 1, correlationId: 'lr_2', payload });
  });

  it('publishes the payload as validated: members the contract does not name are left out', () => {
    const row = writer.event('logout-requested.v1', 'k', 'lr_1', { ...logoutRequested(), secret: 'x' } as LogoutRequested);
    expect(Object.keys(JSON.parse(row.value).payload)).toEqual(['requestId', 'initiator', 'userIds', 'connection', 'sessions', 'refreshTokens', 'acceptedAt']);
  });

  it('gives every event its own eventId', () => {
    const a = JSON.parse(writer.event('logout-requested.v1', 'k', 'lr_1', logoutRequested()).value);
    const b = JSON.parse(writer.event('logout-requested.v1', 'k', 'lr_1', logoutRequested()).value);
    expect(a.eventId).not.toBe(b.eventId);
  });

  it('prefixes the log-events topic too', () => {
    expect(writer.logEventsTopic()).toBe('tenant-a.log-events');
    expect(new OutboxWriter('', new OutboxRepository()).logEventsTopic()).toBe('log-events');
  });

  it.each([
    ['no user', logoutRequested({ userIds: [] })],
    ['an empty request id', logoutRequested({ requestId: '' })],
    ['an initiator a request cannot carry', { ...logoutRequested(), initiator: 'session-expired' }],
    ['scope one without an id', { ...logoutRequested(), sessions: { mode: 'one' } }],
    ['acceptedAt not a date-time', logoutRequested({ acceptedAt: 'yesterday' })],
    ['requestId missing', (({ requestId: _, ...rest }) => rest)(logoutRequested())],
  ])('refuses a logout-requested payload with %s', (_name, payload) => {
    expect(() => writer.event('logout-requested.v1', 'k', 'lr_1', payload as LogoutRequested)).toThrow(ZodError);
  });

  it('refuses a sessions-terminated chunk of 101 sessions (at most 100 per event)', () => {
    const sessions = Array.from({ length: 101 }, (_, i) => ({ sessionId: `s_${i}`, userId: 'u', clientIds: [] }));
    expect(() =>
      writer.event('sessions-terminated.v1', 'u', 'lr_1', { requestId: 'lr_1', initiator: 'idp-logout', chunk: 0, allSessions: true, sessions }),
    ).toThrow(ZodError);
  });

  it('refuses an event over 256 KiB with OversizedEventException, and takes one just under', () => {
    // The envelope around a userIds entry of n characters is a few hundred bytes.
    const big = logoutRequested({ userIds: ['u'.repeat(262_144)] });
    expect(() => writer.event('logout-requested.v1', 'k', 'lr_1', big)).toThrow(OversizedEventException);
    expect(() => writer.event('logout-requested.v1', 'k', 'lr_1', big)).toThrow(/exceeds the 262144 bytes a message may have$/);

    const fits = writer.event('logout-requested.v1', 'k', 'lr_1', logoutRequested({ userIds: ['u'.repeat(261_000)] }));
    expect(Buffer.byteLength(fits.value)).toBeLessThanOrEqual(262_144);
    expect(Buffer.byteLength(fits.value)).toBeGreaterThan(261_000);
  });

  it('counts bytes, not characters: 100,000 three-byte characters are over the limit', () => {
    const multibyte = logoutRequested({ userIds: ['€'.repeat(100_000)] });
    expect(() => writer.event('logout-requested.v1', 'k', 'lr_1', multibyte)).toThrow(OversizedEventException);
  });
});
