import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
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
/** Members whose values are credentials; their values never reach a log. */
const SECRET_KEY = /authorization|secret|password|private|token$/i;

const VERBS: Record<string, string> = { POST: 'Create', PUT: 'Replace', PATCH: 'Update', DELETE: 'Delete' };

/**
 * SPEC §5: `sapi` for a Management API write that succeeded, `fapi` for one that failed, with the
 * request (credentials redacted) and the response status. Best effort: the write itself has
 * already happened (or failed), and a log that cannot be written never changes the answer.
 */
@Injectable()
export class RecordManagementCall {
  private readonly log = new Logger(RecordManagementCall.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly logs: LogEventRecorder,
    private readonly relay: OutboxRelay,
  ) {}

  async execute(call: ManagementCall, outcome: ManagementOutcome): Promise<void> {
    const failed = outcome.statusCode >= 400;
    try {
      await this.logs.record(this.dataSource.manager, [this.eventOf(call, outcome, failed)]);
      this.relay.kick();
    } catch (e) {
      this.log.warn(`could not log ${failed ? 'fapi' : 'sapi'} for ${call.method} ${call.path}: ${(e as Error).message}`);
    }
  }

  private eventOf(call: ManagementCall, outcome: ManagementOutcome, failed: boolean): LogEventInput {
    return {
      type: failed ? 'fapi' : 'sapi',
      description: failed && outcome.error ? outcome.error : `${VERBS[call.method] ?? call.method} ${call.route}`,
      user_id: call.userId,
      ip: call.origin.ip ?? null,
      user_agent: call.origin.user_agent ?? null,
      hostname: call.origin.hostname ?? null,
      details: {
        request: {
          method: call.method,
          path: call.path,
          route: call.route,
          query: call.query,
          body: loggable(call.body),
          auth: { strategy: 'bearer', token_fingerprint: call.tokenFingerprint },
        },
        response: { statusCode: outcome.statusCode, body: loggable(outcome.body) },
      },
    };
  }
}

/** A body as it may be logged: credentials replaced, and no more than MAX_LOGGED_BODY_BYTES. */
export function loggable(body: unknown): unknown {
  if (body === undefined || body === null || body === '') return null;
  // As it went over the wire (dates as strings), without its credentials.
  const redacted: unknown = JSON.parse(JSON.stringify(body), (key, value: unknown) => {
    if (value === null) return value;
    if (SECRET_KEY.test(key)) return '[redacted]';
    // Custom headers of a log stream often carry API keys: their values are credentials too.
    if (key === 'httpCustomHeaders' && Array.isArray(value)) {
      return value.map((h: unknown) => (h && typeof h === 'object' ? { ...h, value: '[redacted]' } : h));
    }
    return value;
  });
  const size = Buffer.byteLength(JSON.stringify(redacted));
  return size > MAX_LOGGED_BODY_BYTES ? { omitted: 'too large to log', bytes: size } : redacted;
}
