import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { X509Certificate, KeyObject } from 'node:crypto';
import { createRemoteJWKSet, JWTVerifyGetKey } from 'jose';
import { APP_CONFIG, AppConfig } from '@ulo/config';
import type { ConnectionEntity } from '@ulo/persistence';
import { SafeHttpClient } from '@ulo/security';
import { parseCertificate } from '../management/connections/connection-options.policy';
import { invalidToken } from './gtr.exception';

/** Where a connection's revocation tokens must come from, and the key material that signs them. */
export interface TrustAnchor {
  issuer: string;
  subject: string;
  key: JWTVerifyGetKey | KeyObject;
}

interface CachedAnchor {
  fingerprint: string;
  anchor: TrustAnchor;
  expiresAt: number;
}

/**
 * SPEC §2.2 trust anchors per connection strategy. Key sets are cached per connection; jose's
 * remote key set refetches on an unknown kid at most once per cooldown, so key rotation at the
 * IdP works and a flood of bogus kids does not reach the IdP.
 */
@Injectable()
export class IdpKeysService implements OnModuleDestroy {
  private readonly log = new Logger(IdpKeysService.name);
  private readonly anchors = new Map<string, CachedAnchor>();
  private readonly http: SafeHttpClient;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.http = new SafeHttpClient(config.security.allowPrivateNetworkUrls, config.security.outboundTimeoutMs, 16);
  }

  async onModuleDestroy(): Promise<void> {
    await this.http.close();
  }

  async anchorFor(connection: ConnectionEntity): Promise<TrustAnchor> {
    const fingerprint = JSON.stringify([connection.strategy, connection.options]);
    const cached = this.anchors.get(connection.id);
    if (cached && cached.fingerprint === fingerprint && cached.expiresAt > Date.now()) return cached.anchor;
    const anchor = await this.build(connection);
    this.anchors.set(connection.id, {
      fingerprint,
      anchor,
      // Discovery results are re-read now and then; the key set inside refreshes on its own.
      expiresAt: Date.now() + this.config.security.jwksCacheMaxAgeSeconds * 1000,
    });
    return anchor;
  }

  private async build(connection: ConnectionEntity): Promise<TrustAnchor> {
    const o = connection.options as Record<string, string | undefined>;
    if (connection.strategy === 'samlp') {
      const issuer = o.global_token_revocation_jwt_iss!;
      const subject = o.global_token_revocation_jwt_sub!;
      if (o.global_token_revocation_jwks_uri) return { issuer, subject, key: this.remoteKeySet(o.global_token_revocation_jwks_uri) };
      // The SAML signing certificate: Okta signs the JWT with the same key, and may omit the kid.
      const cert: X509Certificate = parseCertificate(o.signing_cert!);
      return { issuer, subject, key: cert.publicKey };
    }
    const issuer = o.issuer!;
    const jwksUri = o.jwks_uri ?? (await this.discoverJwksUri(issuer));
    return { issuer, subject: o.client_id!, key: this.remoteKeySet(jwksUri) };
  }

  private async discoverJwksUri(issuer: string): Promise<string> {
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    try {
      const doc = await this.http.getJson<{ jwks_uri?: unknown }>(url);
      if (typeof doc.jwks_uri !== 'string') throw new Error('no jwks_uri in the discovery document');
      return doc.jwks_uri;
    } catch (err) {
      this.log.warn(`discovery of ${url} failed: ${(err as Error).message}`);
      throw invalidToken('the identity provider keys could not be obtained');
    }
  }

  private remoteKeySet(uri: string): JWTVerifyGetKey {
    return createRemoteJWKSet(new URL(uri), {
      timeoutDuration: this.config.security.outboundTimeoutMs,
      cooldownDuration: this.config.security.jwksCooldownSeconds * 1000,
      cacheMaxAge: this.config.security.jwksCacheMaxAgeSeconds * 1000,
      agent: this.http.nodeAgent(new URL(uri).protocol),
    });
  }
}
