import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { base64url, SignJWT } from 'jose';
import { KeyRing, type SigningKey } from './key-ring';

/** The event types an SSF transmitter such as Okta sends (CAEP 1.0, SSF 1.0). */
export const CAEP_SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
export const CAEP_CREDENTIAL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/credential-change';
export const SSF_VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';

/** How a SET is signed: the transmitter's current key, RS256 and typ secevent+jwt unless told otherwise. */
export interface SetSignOptions {
  /** The kid in the header; null leaves it out. Default: the signing key's. */
  kid?: string | null;
  /** `none` makes an unsecured JWT; HS256/384/512 sign with a shared secret; else the RSA key signs. */
  alg?: string;
  /** null leaves typ out. Default `secevent+jwt`. */
  typ?: string | null;
  /** Sign with this key instead of the current one (e.g. one the transmitter never published). */
  key?: SigningKey;
}

/** An RFC 9493 subject identifier, as a SET carries it. */
export type SubjectIdentifier = Record<string, unknown>;

export interface OktaEventOptions {
  /** The aud claim: the audience the receiver was told to expect. */
  audience: string;
  /** The user the event is about (Okta: `{"format": "email", "email": …}`). */
  user: SubjectIdentifier;
  /** Claims that replace or add to the built ones (iss, jti, iat, …). */
  claims?: Record<string, unknown>;
  /** Members that replace or add to the event's own. */
  event?: Record<string, unknown>;
}

export interface PushOptions {
  /** The Authorization header; undefined sends none. */
  authorization?: string;
  /** Default application/secevent+jwt (RFC 8935 §2). */
  contentType?: string;
}

export interface PushAnswer {
  status: number;
  headers: Headers;
  /** The JSON body of an error answer, or its text; undefined when empty. */
  body: any;
}

/** A request one of the transmitter's routes received. */
export interface ReceivedRequest {
  method: string;
  path: string;
  /** The query string, without its `?` ('' when none). */
  query: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type TransmitterRoute = (req: ReceivedRequest, res: ServerResponse) => void | Promise<void>;

/**
 * A stand-in for an SSF transmitter (Okta's, SSF 1.0) on loopback: its configuration at
 * `/.well-known/ssf-configuration`, its JWKS (with key rotation), and Security Event Tokens signed
 * and pushed the way Okta sends them (RFC 8935 push; header kid, typ `secevent+jwt`, RS256; the
 * subject in the event's own `subject.user`).
 *
 * The stream management endpoints the configuration names (configuration, status, verification)
 * answer 501 (a transmitter without stream management) unless a test gives them behaviour with `route`.
 */
export class FakeSsfTransmitter {
  issuer = '';
  configurationFetches = 0;
  jwksFetches = 0;
  /** Every request its routes (not the configuration or the keys) received, in order. */
  readonly requests: ReceivedRequest[] = [];
  private overrides: Record<string, unknown> = {};
  private readonly routes = new Map<string, TransmitterRoute>();
  private readonly sockets = new Set<Socket>();
  private server: Server | null = null;

  private constructor(private readonly keys: KeyRing) {}

  /** Okta's paths for what its configuration names. */
  static readonly PATHS = {
    jwks: '/oauth2/v1/keys',
    configuration: '/api/v1/ssf/stream',
    status: '/api/v1/ssf/stream/status',
    verification: '/api/v1/ssf/stream/verification',
  } as const;

  static async start(): Promise<FakeSsfTransmitter> {
    const t = new FakeSsfTransmitter(await KeyRing.create());
    t.server = createServer((req, res) => void t.handle(req, res));
    t.server.on('connection', (socket: Socket) => {
      t.sockets.add(socket);
      socket.on('close', () => t.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => t.server!.listen(0, '127.0.0.1', resolve));
    t.issuer = `http://127.0.0.1:${(t.server.address() as AddressInfo).port}`;
    return t;
  }

  get jwksUri(): string {
    return `${this.issuer}${FakeSsfTransmitter.PATHS.jwks}`;
  }

  /** SSF 1.0 §7.1: the transmitter configuration metadata it serves (with any `configure` changes). */
  configuration(): Record<string, unknown> {
    const { PATHS } = FakeSsfTransmitter;
    return {
      spec_version: '1_0',
      issuer: this.issuer,
      jwks_uri: this.jwksUri,
      delivery_methods_supported: ['urn:ietf:rfc:8935'],
      configuration_endpoint: `${this.issuer}${PATHS.configuration}`,
      status_endpoint: `${this.issuer}${PATHS.status}`,
      verification_endpoint: `${this.issuer}${PATHS.verification}`,
      authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6749' }],
      ...this.overrides,
    };
  }

  /** Changes members of the configuration it serves (e.g. another issuer); undefined removes one. */
  configure(changes: Record<string, unknown>): void {
    this.overrides = { ...this.overrides, ...changes };
  }

  /** Gives `METHOD path` behaviour (stream management, poll, token endpoints); replaces the 501. */
  route(method: string, path: string, handler: TransmitterRoute): string {
    this.routes.set(`${method.toUpperCase()} ${path}`, handler);
    return `${this.issuer}${path}`;
  }

  get currentKey(): SigningKey {
    return this.keys.current;
  }

  /** Key rotation at the transmitter: a new kid is published and used from now on. */
  rotate(): Promise<SigningKey> {
    return this.keys.rotate();
  }

  /** A SET of exactly `claims`, signed as `options` say (RFC 8417). */
  async signSet(claims: Record<string, unknown>, options: SetSignOptions = {}): Promise<string> {
    const key = options.key ?? this.currentKey;
    const alg = options.alg ?? 'RS256';
    const header: Record<string, unknown> = { alg };
    const kid = options.kid === undefined ? key.kid : options.kid;
    if (kid !== null) header.kid = kid;
    const typ = options.typ === undefined ? 'secevent+jwt' : options.typ;
    if (typ !== null) header.typ = typ;
    if (alg === 'none') {
      const part = (value: unknown) => base64url.encode(JSON.stringify(value));
      return `${part(header)}.${part(claims)}.`;
    }
    const secret = /^HS/.test(alg) ? new TextEncoder().encode('a shared secret anyone could guess, 32+ bytes') : key.privateKey;
    return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(secret);
  }

  /** The claims of a CAEP Session Revoked SET as Okta sends it (mapped from `user.session.end`). */
  sessionRevoked(options: OktaEventOptions): Record<string, unknown> {
    return this.oktaEvent(CAEP_SESSION_REVOKED, options, {
      initiating_entity: 'admin',
      reason_admin: { en: 'The user session was ended by an administrator' },
    });
  }

  /** The claims of a CAEP Credential Change SET as Okta sends it (e.g. `user.account.update_password`). */
  credentialChange(options: OktaEventOptions): Record<string, unknown> {
    return this.oktaEvent(CAEP_CREDENTIAL_CHANGE, options, {
      credential_type: 'password',
      change_type: 'update',
      initiating_entity: 'user',
      reason_admin: { en: 'The user changed their password' },
    });
  }

  /** SSF 1.0 verification event: the subject is the stream, `state` what the receiver asked to see again. */
  verification(options: { audience: string; state?: string; streamId?: string }): Record<string, unknown> {
    return {
      ...this.setClaims(options.audience),
      sub_id: { format: 'opaque', id: options.streamId ?? 'esc1fake-stream' },
      events: { [SSF_VERIFICATION]: options.state === undefined ? {} : { state: options.state } },
    };
  }

  /** RFC 8935: POSTs `set` to a receiver's push endpoint. */
  async push(url: string, set: string, options: PushOptions = {}): Promise<PushAnswer> {
    const headers: Record<string, string> = {
      'content-type': options.contentType ?? 'application/secevent+jwt',
      accept: 'application/json',
    };
    if (options.authorization !== undefined) headers.authorization = options.authorization;
    const res = await fetch(url, { method: 'POST', headers, body: set });
    const text = await res.text();
    let body: unknown = text === '' ? undefined : text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: the text */
    }
    return { status: res.status, headers: res.headers, body };
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private setClaims(audience: string): Record<string, unknown> {
    return { iss: this.issuer, jti: randomUUID(), iat: Math.floor(Date.now() / 1000), aud: audience };
  }

  /** Okta's shape: one event, its subject in the event's own `subject` member, as `{"user": …}`. */
  private oktaEvent(type: string, options: OktaEventOptions, members: Record<string, unknown>): Record<string, unknown> {
    const claims = this.setClaims(options.audience);
    return {
      ...claims,
      events: {
        [type]: { event_timestamp: claims.iat, ...members, subject: { user: options.user }, ...options.event },
      },
      ...options.claims,
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && path === '/.well-known/ssf-configuration') {
      this.configurationFetches++;
      return json(200, this.configuration());
    }
    if (req.method === 'GET' && path === FakeSsfTransmitter.PATHS.jwks) {
      this.jwksFetches++;
      return json(200, this.keys.jwks());
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const query = (req.url ?? '').split('?').slice(1).join('?');
    const received: ReceivedRequest = { method: req.method ?? '', path, query, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    const route = this.routes.get(`${received.method} ${path}`);
    if (route) {
      this.requests.push(received);
      return route(received, res);
    }
    const { PATHS } = FakeSsfTransmitter;
    const streamManagement: string[] = [PATHS.configuration, PATHS.status, PATHS.verification];
    if (streamManagement.includes(path)) {
      // A test that manages a stream gives each endpoint its behaviour with route(); one that does
      // not sees the answer of a transmitter without stream management (SSF 1.0 §8 is optional).
      this.requests.push(received);
      return json(501, { errorCode: 'E0000000', errorSummary: 'this transmitter does not offer stream management' });
    }
    res.statusCode = 404;
    res.end();
  }
}
