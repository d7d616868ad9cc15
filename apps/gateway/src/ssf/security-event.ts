import { SSF_EVENT_TYPES, SSF_STREAM_STATUSES, type Initiator, type RevocationScope, type SsfActions, type SsfStreamStatus } from '@ulo/contracts';
import { GtrException } from '../revocation/gtr.exception';
import { parseSubjectIdentifier, type Subject } from '../revocation/subject';
import { isPlainObject } from '../validation/valid-input';
import { setInvalid } from './ssf.exception';
import type { VerifiedSet } from './set-rules';

/** SPEC §9: the event types this receiver knows (CAEP 1.0 §3.1, §3.2; SSF 1.0 verification). */
export const SESSION_REVOKED = SSF_EVENT_TYPES.sessionRevoked;
export const CREDENTIAL_CHANGE = SSF_EVENT_TYPES.credentialChange;
export const VERIFICATION = SSF_EVENT_TYPES.verification;
export const STREAM_UPDATED = SSF_EVENT_TYPES.streamUpdated;

/** The one event of a verified SET, as this receiver reads it. */
export type SecurityEvent =
  | { kind: 'session-revoked'; type: typeof SESSION_REVOKED; subject: Subject }
  | { kind: 'credential-change'; type: typeof CREDENTIAL_CHANGE; subject: Subject; credentialType: string | null; changeType: string | null }
  | { kind: 'verification'; type: typeof VERIFICATION; state: string | null }
  /** SSF 1.0 §8.1.5: the transmitter changed the stream's status (recorded, shown by GET …/ssf-stream). */
  | { kind: 'stream-updated'; type: typeof STREAM_UPDATED; status: SsfStreamStatus; reason: string | null }
  /** An event type this receiver does not act on: accepted and logged as ignored (SPEC §9). */
  | { kind: 'other'; type: string };

/** RFC 9493 §3.2.5 `complex` members (Okta's format-less subject has the same): only `user` names whom to log out. */
const COMPLEX_MEMBERS = new Set(['user', 'device', 'session', 'application', 'tenant', 'org_unit', 'group']);
/** Event members this receiver quotes in its log (CAEP 1.0 §3.2): bounded. */
const MAX_QUOTED_LENGTH = 256;

/**
 * SPEC §9: the event of a verified SET, with its subject when it is one we act on. Checked in
 * this order: the `events` claim, its one event, then (for CAEP events) the subject.
 */
export function readSecurityEvent(set: VerifiedSet): SecurityEvent {
  const [type, body] = theEventOf(set);
  switch (type) {
    case SESSION_REVOKED:
      return { kind: 'session-revoked', type, subject: subjectOf(set, body) };
    case CREDENTIAL_CHANGE:
      return {
        kind: 'credential-change',
        type,
        subject: subjectOf(set, body),
        credentialType: quoted(body.credential_type),
        changeType: quoted(body.change_type),
      };
    case VERIFICATION:
      return { kind: 'verification', type, state: quoted(body.state) };
    case STREAM_UPDATED:
      return { kind: 'stream-updated', type, status: streamStatusOf(body.status), reason: quoted(body.reason) };
    default:
      return { kind: 'other', type };
  }
}

// RFC 8417 §2.2: `events` is a JSON object of event type URIs, each holding a JSON object;
// SSF 1.0 SET profile, SPEC §9: exactly one event per SET.
function theEventOf(set: VerifiedSet): [string, Record<string, unknown>] {
  const events: unknown = set.events;
  if (!isPlainObject(events)) throw setInvalid('events is required: an object holding one event');
  const types = Object.keys(events);
  if (types.length !== 1) throw setInvalid(`events must hold exactly one event, not ${types.length}`);
  const body = events[types[0]];
  if (!isPlainObject(body)) throw setInvalid('the event must be an object');
  return [types[0], body];
}

// SSF 1.0 SET profile: the subject is the top-level `sub_id` (RFC 9493 §4); Okta (as CAEP drafts
// did) puts it in the event's own `subject` member. Either one names the user, never both (which
// one would be meant?).
function subjectOf(set: VerifiedSet, body: Record<string, unknown>): Subject {
  const inSet = Object.hasOwn(set, 'sub_id');
  const inEvent = Object.hasOwn(body, 'subject');
  if (inSet && inEvent) throw setInvalid("send the subject in sub_id or in the event's subject, not both");
  if (!inSet && !inEvent) throw setInvalid('sub_id is required');
  return userOf(inSet ? set.sub_id : body.subject, inSet ? 'sub_id' : 'subject');
}

// RFC 9493 §3.2.5: a `complex` subject (and Okta's format-less `{"user": …}`) names the user in its
// `user` member; the other formats are those of SPEC §2, checked as for a revocation request.
function userOf(value: unknown, path: string): Subject {
  let identifier = value;
  let at = path;
  if (isPlainObject(value) && (value.format === 'complex' || !Object.hasOwn(value, 'format'))) {
    const members = Object.keys(value).filter((k) => k !== 'format');
    const unknown = members.filter((k) => !COMPLEX_MEMBERS.has(k)).map((k) => k.slice(0, 64));
    if (unknown.length > 0) throw setInvalid(`${path} has unknown member(s): ${unknown.join(', ')}`);
    if (!Object.hasOwn(value, 'user')) throw setInvalid(`${path} names no user (a complex subject needs a user member)`);
    identifier = value.user;
    at = `${path}.user`;
  }
  try {
    return parseSubjectIdentifier(identifier, at);
  } catch (err) {
    if (err instanceof GtrException) throw setInvalid(err.description);
    throw err;
  }
}

// SSF 1.0 §8.1.5: `status` is REQUIRED, one of enabled, paused, disabled.
function streamStatusOf(value: unknown): SsfStreamStatus {
  const status = SSF_STREAM_STATUSES.find((s) => s === value);
  if (!status) throw setInvalid(`the stream-updated event's status must be one of: ${SSF_STREAM_STATUSES.join(', ')}`);
  return status;
}

/** A short text member of an event, for the log; anything else is not quoted. */
function quoted(value: unknown): string | null {
  return typeof value === 'string' ? value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd').slice(0, MAX_QUOTED_LENGTH) : null;
}

/** The logout a CAEP event asks for: who asks, and what of the users' it revokes. */
export interface LogoutScopes {
  initiator: Initiator;
  sessions: RevocationScope;
  refreshTokens: RevocationScope;
}

/** What a CAEP event does for a connection (SPEC §9 `options.ssf.actions`): a logout, or only the log. */
export type EventAction = { action: 'logout' | 'revoke-refresh-tokens'; logout: LogoutScopes } | { action: 'log-only'; logout: null };

/**
 * SPEC §9: `session-revoked` → the logout of §3 (initiator `caep-session-revoked`);
 * `credential-change` → by `actions` (initiator `caep-credential-change`): every session and
 * refresh token, the refresh tokens only (sessions kept), or nothing but the log.
 */
export function actionFor(kind: 'session-revoked' | 'credential-change', actions: SsfActions): EventAction {
  const all: RevocationScope = { mode: 'all' };
  if (kind === 'session-revoked') return { action: 'logout', logout: { initiator: 'caep-session-revoked', sessions: all, refreshTokens: all } };
  const action = actions['credential-change'];
  switch (action) {
    case 'logout':
      return { action, logout: { initiator: 'caep-credential-change', sessions: all, refreshTokens: all } };
    case 'revoke-refresh-tokens':
      return { action, logout: { initiator: 'caep-credential-change', sessions: { mode: 'none' }, refreshTokens: all } };
    case 'log-only':
      return { action, logout: null };
  }
}
