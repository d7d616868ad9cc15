import { isIP } from 'node:net';
import { Agent, buildConnector, request } from 'undici';
import { assertSafeUrlSyntax, isPrivateAddress, UnsafeUrlException } from './outbound-url.policy';
import { PRIVATE_ADDRESS_CODE, privateAddressError, Resolver, safeLookup } from './safe-lookup';

export interface SafeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The body was longer than the cap: `body` holds what was read before the cap, or nothing. */
  truncated: boolean;
}

export interface SendOptions {
  headers?: Record<string, string>;
  body?: string;
  /** The deadline of the whole exchange, connect to last body byte (default: the client's). */
  timeoutMs?: number;
  /** Read no more of the response body than this (default 1 MiB). */
  maxBodyBytes?: number;
}

export class OutboundRequestException extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 1024 * 1024;
const UNDICI_TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * undici's connector behind the address rule. A name is resolved, every address checked and the
 * socket pinned to them (safeLookup); an IP literal never goes through a lookup, so it is checked
 * here, before any socket exists.
 */
export function safeConnector(allowPrivateNetwork: boolean, timeoutMs: number, resolve?: Resolver): buildConnector.connector {
  const connect = buildConnector({ lookup: safeLookup(allowPrivateNetwork, resolve), timeout: timeoutMs });
  return (options, callback) => {
    const host = options.hostname.replace(/^\[|\]$/g, '');
    if (!allowPrivateNetwork && isIP(host) !== 0 && isPrivateAddress(host)) {
      callback(privateAddressError(`${host} is a private network address`), null);
      return;
    }
    connect(options, callback);
  };
}

/**
 * The one way this service calls out (discovery, JWKS, back-channel, log streams): URL rules of
 * SPEC §4 before the call, private addresses refused at connect time, one deadline for the whole
 * exchange (the body included: a server that trickles bytes is cut at it), redirects never
 * followed, response bodies capped.
 */
export class SafeHttpClient {
  private readonly dispatcher: Agent;

  constructor(
    private readonly allowPrivateNetwork: boolean,
    private readonly timeoutMs: number,
    connections = 64,
  ) {
    this.dispatcher = new Agent({
      connect: safeConnector(allowPrivateNetwork, timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connections,
    });
  }

  async send(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, options: SendOptions = {}): Promise<SafeResponse> {
    assertSafeUrlSyntax(url, this.allowPrivateNetwork);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      // The agent has no redirect interceptor: a 3xx is an answer like any other.
      const res = await request(url, {
        method,
        headers: options.headers,
        body: options.body,
        dispatcher: this.dispatcher,
        signal: deadline,
      });
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBodyBytes) {
        res.body.destroy();
        return { status: res.statusCode, headers: res.headers, body: '', truncated: true };
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      // The abort signal destroys the body stream too, so this loop ends at the deadline.
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > maxBodyBytes) {
          truncated = true;
          res.body.destroy();
          break;
        }
        chunks.push(chunk as Buffer);
      }
      return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), truncated };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // undici's own header and body timeouts are the same deadline, whichever fires first.
      if (deadline.aborted || UNDICI_TIMEOUTS.has(e.code ?? '')) {
        throw new OutboundRequestException(`timed out after ${timeoutMs} ms`, 'ETIMEDOUT');
      }
      // Refused at connect time: the URL policy's verdict, not a network failure.
      if (e.code === PRIVATE_ADDRESS_CODE) throw new UnsafeUrlException(e.message);
      throw new OutboundRequestException(e.message, e.code ?? 'EREQUEST');
    }
  }

  /** A JSON document: 200 only (a redirect is refused, not followed), whole (a body over the cap is refused). */
  async getJson<T>(url: string, options: Pick<SendOptions, 'timeoutMs' | 'maxBodyBytes'> = {}): Promise<T> {
    const res = await this.send('GET', url, { ...options, headers: { accept: 'application/json' } });
    if (res.status >= 300 && res.status < 400) {
      throw new OutboundRequestException(`GET ${url} answered ${res.status}; redirects are not followed`, 'EREDIRECT');
    }
    if (res.status !== 200) throw new OutboundRequestException(`GET ${url} answered ${res.status}`, 'EHTTPSTATUS');
    if (res.truncated) {
      throw new OutboundRequestException(`GET ${url}: the body exceeds ${options.maxBodyBytes ?? MAX_BODY_BYTES} bytes`, 'EBODYTOOLARGE');
    }
    try {
      return JSON.parse(res.body) as T;
    } catch {
      throw new OutboundRequestException(`GET ${url} did not answer JSON`, 'EBADJSON');
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
