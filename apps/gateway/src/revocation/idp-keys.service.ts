import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { X509Certificate, KeyObject } from 'node:crypto';
import { JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import type { ConnectionEntity } from '@ulo/persistence';
import {
  KEY_DOCUMENT_MAX_BYTES,
  KeySetUnavailableException,
  OutboundRequestException,
  RemoteKeySet,
  SafeHttpClient,
  UnsafeUrlException,
} from '@ulo/security';
import { parseCertificate } from '../connections/certificate';
import { ssfConfigurationUrl } from '../connections/ssf-options';
import {
  InvalidTransmitterConfigurationException,
  parseTransmitterConfiguration,
  type TransmitterConfiguration,
} from '../connections/ssf-transmitter-configuration';
import { invalidToken } from './gtr.exception';

/** Where a connection's revocation tokens must come from, and the key material that signs them. */
export interface TrustAnchor {
  issuer: string;
  subject: string;
  key: JWTVerifyGetKey | KeyObject;
}

/** SPEC §9: a connection's SSF transmitter as its configuration describes it, and the keys that sign its SETs. */
export interface Transmitter {
  configuration: TransmitterConfiguration;
  key: JWTVerifyGetKey;
}

interface Cached<T> {
  fingerprint: string;
  value: T;
  expiresAt: number;
}

/**
 * The one answer to a caller for every key-fetch failure (discovery or key set; refused URL,
 * timeout, redirect, oversized, malformed): which URL failed and why is for our log only, or an
 * outsider could map internal ports with it.
 */
export const KEYS_UNAVAILABLE = 'the identity provider keys could not be obtained';

/** Keys could not be obtained (the detail is in our log); each endpoint answers it its own way. */
export class KeysUnavailableException extends Error {
  constructor() {
    super(KEYS_UNAVAILABLE);
  }
}

/** At most one warning per connection per window about its key fetches; the rest are counted. */
const FAILURE_LOG_WINDOW_MS = 10_000;
/** Connections whose trust anchors (and key sets) are kept; the least recently used one is read again. */
const MAX_ANCHORS = 10_000;
/** Connections whose key-fetch warnings are being counted. */
const MAX_FAILURE_LOGS = 1_024;

/**
 * SPEC §2.2 trust anchors per connection strategy, and SPEC §9 SSF transmitters. Discovery,
 * transmitter configurations and key sets are fetched through the same safe client as every other
 * outbound call (SPEC §4 URL rules, private addresses refused for names and IP literals, no
 * redirects, 256 KiB, one deadline per exchange). Key sets are cached per connection; an unknown
 * kid refetches at most once per cooldown, so key rotation at the IdP works and a flood of bogus
 * kids does not reach the IdP.
 */
@Injectable()
export class IdpKeysService implements OnModuleDestroy {
  private readonly log = new Logger(IdpKeysService.name);
  private readonly anchors = new LRUCache<string, Cached<TrustAnchor>>({ max: MAX_ANCHORS });
  private readonly transmitters = new LRUCache<string, Cached<Transmitter>>({ max: MAX_ANCHORS });
  private readonly building = new Map<string, Promise<unknown>>();
  private readonly failureLog = new LRUCache<string, { since: number; suppressed: number }>({ max: MAX_FAILURE_LOGS });
  private readonly http: SafeHttpClient;

  constructor(@Inject(APP_CONFIG) private readonly config: GatewayConfig) {
    this.http = new SafeHttpClient(config.security.allowPrivateNetworkUrls, config.security.outboundTimeoutMs, 16);
  }

  async onModuleDestroy(): Promise<void> {
    await this.http.close();
  }

  async anchorFor(connection: ConnectionEntity): Promise<TrustAnchor> {
    // options.ssf is another trust anchor (transmitterFor): changing it leaves this one cached.
    const { ssf: _ssf, ...options } = connection.options;
    const fingerprint = JSON.stringify([connection.strategy, options]);
    try {
      return await this.cached(this.anchors, `anchor ${connection.id}`, connection.id, fingerprint, () => this.build(connection));
    } catch (err) {
      if (err instanceof KeysUnavailableException) throw invalidToken(KEYS_UNAVAILABLE);
      throw err;
    }
  }

  /**
   * SPEC §9: the SSF transmitter at `issuer` (a connection's `options.ssf.issuer`): its
   * configuration from `<issuer>/.well-known/ssf-configuration` and the key set its `jwks_uri`
   * names, cached and refreshed like an identity provider's. Throws KeysUnavailableException when
   * either cannot be obtained.
   */
  transmitterFor(connection: ConnectionEntity, issuer: string): Promise<Transmitter> {
    return this.cached(this.transmitters, `ssf ${connection.id}`, connection.id, issuer, () => this.buildTransmitter(connection, issuer));
  }

  /** What `build` made for `id` while its fingerprint holds; requests that arrive together share one build. */
  private async cached<T>(cache: LRUCache<string, Cached<T>>, scope: string, id: string, fingerprint: string, build: () => Promise<T>): Promise<T> {
    const cached = cache.get(id);
    if (cached && cached.fingerprint === fingerprint && cached.expiresAt > Date.now()) return cached.value;
    const key = `${scope} ${fingerprint}`;
    let building = this.building.get(key) as Promise<T> | undefined;
    if (!building) {
      building = build().finally(() => this.building.delete(key));
      this.building.set(key, building);
    }
    const value = await building;
    cache.set(id, {
      fingerprint,
      value,
      // Discovery results are re-read now and then; the key set inside refreshes on its own.
      expiresAt: Date.now() + this.config.security.jwksCacheMaxAgeSeconds * 1000,
    });
    return value;
  }

  private async build(connection: ConnectionEntity): Promise<TrustAnchor> {
    const o = connection.options as Record<string, string | undefined>;
    if (connection.strategy === 'samlp') {
      const issuer = o.global_token_revocation_jwt_iss!;
      const subject = o.global_token_revocation_jwt_sub!;
      if (o.global_token_revocation_jwks_uri) {
        return { issuer, subject, key: this.remoteKeySet(connection, o.global_token_revocation_jwks_uri) };
      }
      // The SAML signing certificate: Okta signs the JWT with the same key, and may omit the kid.
      const cert: X509Certificate = parseCertificate(o.signing_cert!);
      return { issuer, subject, key: cert.publicKey };
    }
    const issuer = o.issuer!;
    const jwksUri = o.jwks_uri ?? (await this.discoverJwksUri(connection, issuer));
    return { issuer, subject: o.client_id!, key: this.remoteKeySet(connection, jwksUri) };
  }

  /** OpenID Connect Discovery 1.0 §4: the jwks_uri it names goes through the same rules as a configured one. */
  private discoverJwksUri(connection: ConnectionEntity, issuer: string): Promise<string> {
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    return this.readDocument(connection, url, (doc) => {
      const jwksUri = typeof doc === 'object' && doc !== null ? (doc as { jwks_uri?: unknown }).jwks_uri : undefined;
      if (typeof jwksUri !== 'string') throw new KeySetUnavailableException(url, 'the discovery document names no jwks_uri');
      return jwksUri;
    });
  }

  /** SSF 1.0 §7.2: the transmitter's configuration, then the key set it names (through the same rules). */
  private async buildTransmitter(connection: ConnectionEntity, issuer: string): Promise<Transmitter> {
    const url = ssfConfigurationUrl(issuer);
    const configuration = await this.readDocument(connection, url, (doc) => {
      try {
        return parseTransmitterConfiguration(doc, issuer);
      } catch (err) {
        if (err instanceof InvalidTransmitterConfigurationException) throw new KeySetUnavailableException(url, err.message);
        throw err;
      }
    });
    return { configuration, key: this.remoteKeySet(connection, configuration.jwks_uri) };
  }

  /** A JSON document at `url`, read by `read`; any failure to obtain a usable one is logged and unavailable. */
  private async readDocument<T>(connection: ConnectionEntity, url: string, read: (doc: unknown) => T): Promise<T> {
    try {
      return read(await this.http.getJson<unknown>(url, { maxBodyBytes: KEY_DOCUMENT_MAX_BYTES }));
    } catch (err) {
      if (err instanceof OutboundRequestException || err instanceof UnsafeUrlException) {
        throw this.unavailable(connection, new KeySetUnavailableException(url, err.message));
      }
      if (err instanceof KeySetUnavailableException) throw this.unavailable(connection, err);
      throw err;
    }
  }

  private remoteKeySet(connection: ConnectionEntity, uri: string): JWTVerifyGetKey {
    const set = new RemoteKeySet(this.http, uri, {
      cooldownMs: this.config.security.jwksCooldownSeconds * 1000,
      maxAgeMs: this.config.security.jwksCacheMaxAgeSeconds * 1000,
    });
    return async (header, token) => {
      try {
        return await set.getKey(header, token);
      } catch (err) {
        if (err instanceof KeySetUnavailableException) throw this.unavailable(connection, err);
        throw err;
      }
    };
  }

  /** The detail to our log (at most once per connection per window), the one description to the caller. */
  private unavailable(connection: ConnectionEntity, err: KeySetUnavailableException) {
    const now = Date.now();
    const entry = this.failureLog.get(connection.id);
    if (entry && now - entry.since < FAILURE_LOG_WINDOW_MS) {
      entry.suppressed++;
    } else {
      const earlier = entry?.suppressed ? ` (${entry.suppressed} more key-fetch failures not logged before this one)` : '';
      this.log.warn(`keys of connection ${connection.name} could not be obtained: ${err.message.slice(0, 500)}${earlier}`);
      this.failureLog.set(connection.id, { since: now, suppressed: 0 });
    }
    return new KeysUnavailableException();
  }
}
