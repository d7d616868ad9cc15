import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import { OutboundRequestException, SafeHttpClient, UnsafeUrlException, type SafeResponse } from '@ulo/security';
import { ssfConfigurationUrl } from './ssf-options';
import { InvalidTransmitterConfigurationException, parseTransmitterConfiguration, type TransmitterConfiguration } from './ssf-transmitter-configuration';

/** The scopes Okta's stream management asks of a receiver's client (okta.ssf.manage writes, okta.ssf.read reads). */
export const SSF_MANAGEMENT_SCOPES = 'okta.ssf.manage okta.ssf.read';
/** A stream configuration or a token answer is a few KiB. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** The transmitter refused a stream management call, or could not be reached; the message says which, without secrets. */
export class TransmitterCallException extends Error {
  constructor(
    message: string,
    /** The transmitter's status, when it answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** One authorized stream management session with a transmitter: its configuration and an access token. */
export interface TransmitterSession {
  configuration: TransmitterConfiguration;
  accessToken: string;
}

/** What a stream management call answered: the status, and the JSON body (undefined when empty). */
export interface TransmitterAnswer {
  status: number;
  body: unknown;
}

/**
 * SSF 1.0 §8 as a receiver: the calls that manage our stream at a connection's transmitter, each
 * through the one safe client (SPEC §4 URL rules, one deadline, no redirects, bounded bodies).
 * The access token is obtained per session with the OAuth 2.0 client credentials grant
 * (RFC 6749 §4.4, client_secret_basic) at the token endpoint of the transmitter's authorization
 * server metadata (RFC 8414); stream management is rare, so nothing is cached.
 */
@Injectable()
export class SsfTransmitterClient implements OnModuleDestroy {
  private readonly http: SafeHttpClient;

  constructor(@Inject(APP_CONFIG) config: GatewayConfig) {
    this.http = new SafeHttpClient(config.security.allowPrivateNetworkUrls, config.security.outboundTimeoutMs, 4);
  }

  async onModuleDestroy(): Promise<void> {
    await this.http.close();
  }

  /** SSF 1.0 §7.2 configuration, then an access token with the management scopes. */
  async session(issuer: string, credentials: { clientId: string; clientSecret: string }): Promise<TransmitterSession> {
    const configuration = await this.configuration(issuer);
    const accessToken = await this.accessToken(issuer, credentials);
    return { configuration, accessToken };
  }

  /** A stream management call with the session's bearer token; any answer is returned, a failure to get one thrown. */
  async call(session: TransmitterSession, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown): Promise<TransmitterAnswer> {
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${session.accessToken}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.send(method, url, { headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: jsonOf(res) };
  }

  private async configuration(issuer: string): Promise<TransmitterConfiguration> {
    const url = ssfConfigurationUrl(issuer);
    const res = await this.send('GET', url, { headers: { accept: 'application/json' } });
    if (res.status !== 200) throw new TransmitterCallException(`the transmitter's SSF configuration (${url}) answered ${res.status}`, res.status);
    try {
      return parseTransmitterConfiguration(jsonOf(res), issuer);
    } catch (err) {
      if (err instanceof InvalidTransmitterConfigurationException) throw new TransmitterCallException(`${url}: ${err.message}`);
      throw err;
    }
  }

  // RFC 8414 §3: the authorization server metadata at the issuer names its token endpoint; RFC 6749 §4.4, §2.3.1.
  private async accessToken(issuer: string, { clientId, clientSecret }: { clientId: string; clientSecret: string }): Promise<string> {
    const metadataUrl = `${issuer.replace(/\/$/, '')}/.well-known/oauth-authorization-server`;
    const metadata = await this.send('GET', metadataUrl, { headers: { accept: 'application/json' } });
    const tokenEndpoint = (jsonOf(metadata) as { token_endpoint?: unknown } | undefined)?.token_endpoint;
    if (metadata.status !== 200 || typeof tokenEndpoint !== 'string') {
      throw new TransmitterCallException(`the transmitter's authorization server metadata (${metadataUrl}) names no token_endpoint`, metadata.status);
    }
    // RFC 6749 §2.3.1: the client id and secret are form-encoded before they are joined.
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
    const res = await this.send('POST', tokenEndpoint, {
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: SSF_MANAGEMENT_SCOPES }).toString(),
    });
    const answer = jsonOf(res) as { access_token?: unknown; error?: unknown } | undefined;
    if (res.status !== 200 || typeof answer?.access_token !== 'string') {
      const error = typeof answer?.error === 'string' ? ` (${answer.error.slice(0, 100)})` : '';
      throw new TransmitterCallException(`the transmitter's token endpoint refused the client credentials: ${res.status}${error}`, res.status);
    }
    return answer.access_token;
  }

  private async send(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, options: { headers: Record<string, string>; body?: string }): Promise<SafeResponse> {
    try {
      const res = await this.http.send(method, url, { ...options, maxBodyBytes: MAX_ANSWER_BYTES });
      if (res.truncated) throw new TransmitterCallException(`${method} ${url}: the answer exceeds ${MAX_ANSWER_BYTES} bytes`, res.status);
      return res;
    } catch (err) {
      // The error code, not the driver's words: "connect ECONNREFUSED" would read as our own outage (a 503).
      if (err instanceof OutboundRequestException) throw new TransmitterCallException(`${method} ${url} failed: ${err.code === 'ETIMEDOUT' ? err.message : err.code}`);
      if (err instanceof UnsafeUrlException) throw new TransmitterCallException(`${method} ${url} is refused by the outbound URL rules: ${err.message.slice(0, 300)}`);
      throw err;
    }
  }
}

function jsonOf(res: SafeResponse): unknown {
  if (res.body.trim() === '') return undefined;
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    return undefined;
  }
}
