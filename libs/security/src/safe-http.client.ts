import { Agent as HttpsAgent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import { Agent, request } from 'undici';
import { assertSafeUrlSyntax, UnsafeUrlException } from './outbound-url.policy';
import { PRIVATE_ADDRESS_CODE, safeLookup } from './safe-lookup';

export interface SafeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
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

/**
 * The one way this service calls out (JWKS, discovery, back-channel, log streams): URL rules of
 * SPEC §4 before the call, private addresses refused at connect time, a deadline on every call,
 * redirects never followed, response bodies capped.
 */
export class SafeHttpClient {
  private readonly dispatcher: Agent;

  constructor(
    private readonly allowPrivateNetwork: boolean,
    private readonly timeoutMs: number,
    connections = 64,
  ) {
    this.dispatcher = new Agent({
      connect: { lookup: safeLookup(allowPrivateNetwork), timeout: timeoutMs },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connections,
    });
  }

  /** node:http agents with the same address rule, for libraries that take an agent (jose's JWKS fetch). */
  nodeAgent(protocol: string): HttpAgent {
    const options = { lookup: safeLookup(this.allowPrivateNetwork) as never, keepAlive: true };
    return protocol === 'http:' ? new HttpAgent(options) : new HttpsAgent(options);
  }

  async send(
    method: 'GET' | 'POST',
    url: string,
    options: { headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
  ): Promise<SafeResponse> {
    assertSafeUrlSyntax(url, this.allowPrivateNetwork);
    const deadline = AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs);
    try {
      const res = await request(url, {
        method,
        headers: options.headers,
        body: options.body,
        dispatcher: this.dispatcher,
        signal: deadline,
        maxRedirections: 0,
      } as Parameters<typeof request>[1]);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) {
          res.body.destroy();
          break;
        }
        chunks.push(chunk as Buffer);
      }
      return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (deadline.aborted) throw new OutboundRequestException(`timed out after ${options.timeoutMs ?? this.timeoutMs} ms`, 'ETIMEDOUT');
      // Refused by safeLookup at connect time: the URL policy's verdict, not a network failure.
      if (e.code === PRIVATE_ADDRESS_CODE) throw new UnsafeUrlException(e.message);
      throw new OutboundRequestException(e.message, e.code ?? 'EREQUEST');
    }
  }

  async getJson<T>(url: string): Promise<T> {
    const res = await this.send('GET', url, { headers: { accept: 'application/json' } });
    if (res.status !== 200) throw new OutboundRequestException(`GET ${url} answered ${res.status}`, 'EHTTPSTATUS');
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
