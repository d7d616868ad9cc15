import { Injectable, Logger } from '@nestjs/common';
import { LogEventInput } from '@ulo/contracts';
import { LogEventRecorder, OutboxRelay } from '@ulo/messaging';

/** One Management API write as the audit log sees it. */
export interface ManagementCall {
  method: string;
  /** The route as declared (`/api/v2/log-streams/:id`). */
  route: string;
  /** The path called (`/api/v2/log-streams/ls_01J…`). */
  path: string;
  query: Record<string, unknown>;
  body: unknown;
  /** A fingerprint of the management token used, never the token. */
  tokenFingerprint: string;
  userId: string | null;
  origin: { ip?: string; user_agent?: string; hostname?: string };
}

export type ManagementOutcome = { statusCode: number; body: unknown; error?: string };

/** A request or response body larger than this is logged as its size only. */
const MAX_LOGGED_BODY_BYTES = 8 * 1024;
/** Deeper bodies are refused by the API (SPEC §7) and logged as that fact only. */
const MAX_LOGGED_DEPTH = 32;
/**
 * Members (and query parameters) whose values are credentials; their values never reach a log:
 * `httpAuthorization` (and `push_authorisation`, misspelt), `client_secret`, `password`, `private_key`, `id_token`, `access_token`,
 * `key`, `api_key`, `apiKey`, `x-api-key`, `credentials`, `signature`, `sig` ...
 */
const SECRET_KEY = /authori[sz]ation|secret|passw(or)?d|private|token$|^key$|api[-_]?key|credential|signature|^sig$/i;
/** `name=value` in a URL's query or fragment, `user:password@` in its authority. */
const URL_PARAMETER = /([?&#;])([^=&#;\s]+)=([^&#;\s]*)/g;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^/@:\s]*):[^/@\s]*@/gi;
/** PostgreSQL cannot store NUL in jsonb or text: the log would fail where it matters most. */
const NUL = /\u0000/g;
const REPLACEMENT = '\ufffd';

const VERBS: ReadonlyMap<string, string> = new Map([
  ['POST', 'Create'],
  ['PUT', 'Replace'],
  ['PATCH', 'Update'],
  ['DELETE', 'Delete'],
]);

/**
 * SPEC §5: `sapi` for a Management API write that succeeded, `fapi` for one that failed, with the
 * request (credentials redacted) and the response status. Best effort: the write itself has
 * already happened (or failed), and a log that cannot be written never changes the answer.
 */
@Injectable()
export class RecordManagementCall {
  private readonly log = new Logger(RecordManagementCall.name);

  constructor(
    private readonly logs: LogEventRecorder,
    private readonly relay: OutboxRelay,
  ) {}

  async execute(call: ManagementCall, outcome: ManagementOutcome): Promise<void> {
    const failed = outcome.statusCode >= 400;
    try {
      await this.logs.recordAlone([this.eventOf(call, outcome, failed)]);
      this.relay.kick();
    } catch (e) {
      this.log.warn(`could not log ${failed ? 'fapi' : 'sapi'} for ${call.method} ${call.path}: ${(e as Error).message}`);
    }
  }

  private eventOf(call: ManagementCall, outcome: ManagementOutcome, failed: boolean): LogEventInput {
    return {
      type: failed ? 'fapi' : 'sapi',
      description: storable(failed && outcome.error ? outcome.error : `${VERBS.get(call.method) ?? call.method} ${call.route}`),
      user_id: call.userId === null ? null : storable(call.userId),
      ip: call.origin.ip ?? null,
      user_agent: call.origin.user_agent ?? null,
      hostname: call.origin.hostname ?? null,
      details: {
        request: {
          method: call.method,
          path: storable(call.path),
          route: call.route,
          query: loggable(call.query) ?? {},
          body: loggable(call.body),
          auth: { strategy: 'bearer', token_fingerprint: call.tokenFingerprint },
        },
        response: { statusCode: outcome.statusCode, body: loggable(outcome.body) },
      },
    };
  }
}

/**
 * A body (or a query) as it may be logged: credentials replaced, also those in URLs' query strings
 * and user information, NUL replaced, and no more than MAX_LOGGED_BODY_BYTES.
 */
export function loggable(body: unknown): unknown {
  if (body === undefined || body === null || body === '') return null;
  if (deeperThan(body, MAX_LOGGED_DEPTH)) return { omitted: `nested deeper than ${MAX_LOGGED_DEPTH} levels` };
  // As it went over the wire (dates as strings), without its credentials.
  let redacted: unknown;
  try {
    // A NUL escaped in the JSON text (after an odd number of backslashes) is replaced before parsing, in keys too.
    const json = JSON.stringify(body).replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd');
    redacted = JSON.parse(json, (key, value: unknown) => {
      if (value === null) return value;
      if (SECRET_KEY.test(key)) return '[redacted]';
      // Custom headers of a log stream often carry API keys: their values are credentials too.
      if (key === 'httpCustomHeaders' && Array.isArray(value)) {
        return value.map((h: unknown) => (h && typeof h === 'object' ? { ...h, value: '[redacted]' } : h));
      }
      if (typeof value === 'string') return withoutUrlCredentials(value);
      return value;
    });
  } catch {
    return { omitted: 'not serialisable as JSON' };
  }
  const size = Buffer.byteLength(JSON.stringify(redacted));
  return size > MAX_LOGGED_BODY_BYTES ? { omitted: 'too large to log', bytes: size } : redacted;
}

/** Without recursion: a body nested thousands deep (refused by the API) must not overflow the stack here. */
function deeperThan(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  while (pending.length > 0) {
    const [v, depth] = pending.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) pending.push([child, depth + 1]);
  }
  return false;
}

/** Text as a log event may hold it: no NUL, no credential in a URL's query string. */
function storable(text: string): string {
  return withoutUrlCredentials(text.replace(NUL, REPLACEMENT));
}

/** `?token=abc&x=1` → `?token=[redacted]&x=1`; `https://user:pw@host` → `https://user:[redacted]@host`. */
export function withoutUrlCredentials(text: string): string {
  if (!/[=@]/.test(text)) return text;
  return text
    .replace(URL_PARAMETER, (all, separator: string, name: string) => (SECRET_KEY.test(name) ? `${separator}${name}=[redacted]` : all))
    .replace(URL_PASSWORD, '$1:[redacted]@');
}
