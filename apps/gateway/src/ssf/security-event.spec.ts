import { CREDENTIAL_CHANGE, SESSION_REVOKED, STREAM_UPDATED, VERIFICATION, actionFor, readSecurityEvent } from './security-event';
import type { VerifiedSet } from './set-rules';

const claims = { iss: 'https://acme.okta.com', aud: 'receiver', iat: 1_800_000_000, jti: 'j1' };
const set = (more: Record<string, unknown>) => ({ ...claims, ...more }) as VerifiedSet;
const email = { format: 'email', email: 'jane.doe@example.com' };

/** The err and description readSecurityEvent throws. */
function refusal(value: VerifiedSet): { status: number; err: string; description: string } | null {
  try {
    readSecurityEvent(value);
    return null;
  } catch (e) {
    const { status, err, description } = e as { status: number; err: string; description: string };
    return { status, err, description };
  }
}

describe('the event of a SET (RFC 8417 §2.2, SSF 1.0, CAEP 1.0, SPEC §9)', () => {
  it.each([
    [
      "Okta's session revoked: the subject in the event, as {user}",
      { events: { [SESSION_REVOKED]: { event_timestamp: 1, initiating_entity: 'admin', subject: { user: email } } } },
      { kind: 'session-revoked', type: SESSION_REVOKED, subject: email },
    ],
    [
      'SSF 1.0: the subject in sub_id',
      { sub_id: { format: 'iss_sub', iss: 'https://acme.okta.com', sub: '00u1' }, events: { [SESSION_REVOKED]: {} } },
      { kind: 'session-revoked', type: SESSION_REVOKED, subject: { format: 'iss_sub', iss: 'https://acme.okta.com', sub: '00u1' } },
    ],
    [
      'a complex sub_id, by its user member',
      { sub_id: { format: 'complex', user: { format: 'opaque', id: 'u1' }, session: { format: 'opaque', id: 's1' } }, events: { [SESSION_REVOKED]: {} } },
      { kind: 'session-revoked', type: SESSION_REVOKED, subject: { format: 'opaque', id: 'u1' } },
    ],
    [
      'a plain subject in the event',
      { events: { [SESSION_REVOKED]: { subject: email } } },
      { kind: 'session-revoked', type: SESSION_REVOKED, subject: email },
    ],
    [
      'aliases in the user member',
      { events: { [SESSION_REVOKED]: { subject: { user: { format: 'aliases', identifiers: [email, { format: 'opaque', id: 'u1' }] } } } } },
      { kind: 'session-revoked', type: SESSION_REVOKED, subject: { format: 'aliases', identifiers: [email, { format: 'opaque', id: 'u1' }] } },
    ],
    [
      "Okta's credential change, with its credential and change types",
      { events: { [CREDENTIAL_CHANGE]: { credential_type: 'password', change_type: 'update', subject: { user: email, tenant: { format: 'opaque', id: 't' } } } } },
      { kind: 'credential-change', type: CREDENTIAL_CHANGE, subject: email, credentialType: 'password', changeType: 'update' },
    ],
    [
      'a credential change without them',
      { sub_id: email, events: { [CREDENTIAL_CHANGE]: {} } },
      { kind: 'credential-change', type: CREDENTIAL_CHANGE, subject: email, credentialType: null, changeType: null },
    ],
    [
      'the verification event, with its state',
      { sub_id: { format: 'opaque', id: 'stream-1' }, events: { [VERIFICATION]: { state: 'VGhpcyBpcyBhbiBleGFtcGxl' } } },
      { kind: 'verification', type: VERIFICATION, state: 'VGhpcyBpcyBhbiBleGFtcGxl' },
    ],
    ['the verification event without state', { events: { [VERIFICATION]: {} } }, { kind: 'verification', type: VERIFICATION, state: null }],
    [
      'a stream-updated event (SSF 1.0 §8.1.5), with its reason',
      { sub_id: { format: 'opaque', id: 'stream-1' }, events: { [STREAM_UPDATED]: { status: 'paused', reason: 'maintenance' } } },
      { kind: 'stream-updated', type: STREAM_UPDATED, status: 'paused', reason: 'maintenance' },
    ],
    ['a stream-updated event without reason', { events: { [STREAM_UPDATED]: { status: 'disabled' } } }, { kind: 'stream-updated', type: STREAM_UPDATED, status: 'disabled', reason: null }],
    [
      'an event type not acted on, whatever its subject',
      { events: { 'https://schemas.openid.net/secevent/caep/event-type/token-claims-change': { subject: 'anything' } } },
      { kind: 'other', type: 'https://schemas.openid.net/secevent/caep/event-type/token-claims-change' },
    ],
  ])('reads %s', (_name, more, expected) => {
    expect(readSecurityEvent(set(more))).toEqual(expected);
  });

  it.each([
    ['no events', {}, 'events is required: an object holding one event'],
    ['events an array', { events: [] }, 'events is required: an object holding one event'],
    ['no event', { events: {} }, 'events must hold exactly one event, not 0'],
    ['two events', { events: { [SESSION_REVOKED]: { subject: { user: email } }, [CREDENTIAL_CHANGE]: { subject: { user: email } } } }, 'events must hold exactly one event, not 2'],
    ['an event that is no object', { events: { [SESSION_REVOKED]: 'revoked' } }, 'the event must be an object'],
    ['no subject', { events: { [SESSION_REVOKED]: {} } }, 'sub_id is required'],
    ['both sub_id and the event subject', { sub_id: email, events: { [SESSION_REVOKED]: { subject: { user: email } } } }, "send the subject in sub_id or in the event's subject, not both"],
    ['a complex subject without user', { sub_id: { format: 'complex', session: { format: 'opaque', id: 's' } }, events: { [SESSION_REVOKED]: {} } }, 'sub_id names no user (a complex subject needs a user member)'],
    ["Okta's subject without user", { events: { [SESSION_REVOKED]: { subject: { device: { format: 'opaque', id: 'd' } } } } }, 'subject names no user (a complex subject needs a user member)'],
    ['a complex subject with an unknown member', { sub_id: { format: 'complex', user: email, color: 'blue' }, events: { [SESSION_REVOKED]: {} } }, 'sub_id has unknown member(s): color'],
    ['an unsupported format', { sub_id: { format: 'phone_number', phone_number: '+1' }, events: { [SESSION_REVOKED]: {} } }, 'unsupported subject format "phone_number"'],
    ['an email that is none', { events: { [SESSION_REVOKED]: { subject: { user: { format: 'email', email: 'nope' } } } } }, 'subject.user.email is not an email address'],
    ['an iss_sub without sub', { sub_id: { format: 'complex', user: { format: 'iss_sub', iss: 'https://i' } }, events: { [CREDENTIAL_CHANGE]: {} } }, 'sub_id.user.sub is required'],
    ['a user member that is no object', { events: { [SESSION_REVOKED]: { subject: { user: 'jane' } } } }, 'subject.user must be an object'],
    ['a subject that is no object', { sub_id: 'jane', events: { [SESSION_REVOKED]: {} } }, 'sub_id must be an object'],
    [
      'nested aliases',
      { sub_id: { format: 'aliases', identifiers: [{ format: 'aliases', identifiers: [email] }] }, events: { [SESSION_REVOKED]: {} } },
      'sub_id.identifiers[0]: aliases may not be nested',
    ],
    ['a subject nested too deeply', { sub_id: { format: 'opaque', id: JSON.parse('{"a":'.repeat(10) + '1' + '}'.repeat(10)) }, events: { [SESSION_REVOKED]: {} } }, 'sub_id is nested too deeply'],
    // Hostile traffic: prototype property names are no member and no format.
    ['a complex member named __proto__', { sub_id: JSON.parse('{"format":"complex","__proto__":{},"user":{"format":"opaque","id":"u"}}'), events: { [SESSION_REVOKED]: {} } }, 'sub_id has unknown member(s): __proto__'],
    ['format "constructor"', { sub_id: { format: 'constructor' }, events: { [SESSION_REVOKED]: {} } }, 'unsupported subject format "constructor"'],
    ['a stream-updated event without status', { events: { [STREAM_UPDATED]: {} } }, "the stream-updated event's status must be one of: enabled, paused, disabled"],
    ['a stream-updated event with an unknown status', { events: { [STREAM_UPDATED]: { status: 'ENABLED' } } }, "the stream-updated event's status must be one of: enabled, paused, disabled"],
  ])('refuses %s with invalid_request', (_name, more, description) => {
    expect(refusal(set(more))).toEqual({ status: 400, err: 'invalid_request', description });
  });
});

describe("what an event does, by the connection's actions (SPEC §9)", () => {
  const all = { mode: 'all' };
  it.each([
    ['session-revoked', 'revoke-refresh-tokens', { action: 'logout', logout: { initiator: 'caep-session-revoked', sessions: all, refreshTokens: all } }],
    ['credential-change', 'revoke-refresh-tokens', { action: 'revoke-refresh-tokens', logout: { initiator: 'caep-credential-change', sessions: { mode: 'none' }, refreshTokens: all } }],
    ['credential-change', 'logout', { action: 'logout', logout: { initiator: 'caep-credential-change', sessions: all, refreshTokens: all } }],
    ['credential-change', 'log-only', { action: 'log-only', logout: null }],
    ['session-revoked', 'log-only', { action: 'logout', logout: { initiator: 'caep-session-revoked', sessions: all, refreshTokens: all } }],
  ] as const)('%s with credential-change %s', (kind, credentialChange, expected) => {
    expect(actionFor(kind, { 'session-revoked': 'logout', 'credential-change': credentialChange })).toEqual(expected);
  });
});
