import { X509Certificate } from 'node:crypto';
import { UnsafeUrlException, assertSafeUrlSyntax } from '@ulo/security';
import type { ConnectionStrategy } from '@ulo/contracts';

export class InvalidConnectionOptionsException extends Error {}

const urlOptions = ['issuer', 'jwks_uri', 'global_token_revocation_jwks_uri'];
const stringOptions = ['client_id', 'global_token_revocation_jwt_iss', 'global_token_revocation_jwt_sub'];

/** Accepts PEM, or base64 DER without the armour (how SAML metadata carries certificates). */
export function parseCertificate(value: string): X509Certificate {
  const body = value.includes('-----BEGIN')
    ? value
    : `-----BEGIN CERTIFICATE-----\n${value.replace(/\s+/g, '').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----`;
  return new X509Certificate(body);
}

/**
 * SPEC §2 trust anchors, checked when a connection is written so that a logout never meets a
 * half-configured connection. Returns the normalised options (signingCert → signing_cert).
 */
export function validateConnectionOptions(
  strategy: ConnectionStrategy,
  input: Record<string, unknown>,
  allowPrivateNetwork: boolean,
): Record<string, unknown> {
  const options = { ...input };
  if (options.signingCert !== undefined && options.signing_cert === undefined) {
    options.signing_cert = options.signingCert;
  }
  delete options.signingCert;

  for (const key of stringOptions) {
    if (options[key] !== undefined && (typeof options[key] !== 'string' || (options[key]).length === 0)) {
      throw new InvalidConnectionOptionsException(`options.${key} must be a non-empty string`);
    }
  }
  for (const key of urlOptions) {
    if (options[key] === undefined) continue;
    if (typeof options[key] !== 'string') throw new InvalidConnectionOptionsException(`options.${key} must be a URL`);
    try {
      assertSafeUrlSyntax(options[key], allowPrivateNetwork);
    } catch (err) {
      if (err instanceof UnsafeUrlException) {
        throw new InvalidConnectionOptionsException(`options.${key} ${err.message}`);
      }
      throw err;
    }
  }

  if (strategy === 'samlp') {
    const iss = options.global_token_revocation_jwt_iss;
    const sub = options.global_token_revocation_jwt_sub;
    if ((iss === undefined) !== (sub === undefined)) {
      throw new InvalidConnectionOptionsException(
        'options.global_token_revocation_jwt_iss and options.global_token_revocation_jwt_sub must be set together',
      );
    }
    if (options.signing_cert !== undefined) {
      if (typeof options.signing_cert !== 'string') {
        throw new InvalidConnectionOptionsException('options.signing_cert must be an X.509 certificate (PEM or base64 DER)');
      }
      try {
        parseCertificate(options.signing_cert);
      } catch {
        throw new InvalidConnectionOptionsException('options.signing_cert is not a valid X.509 certificate');
      }
    }
  }
  return options;
}

/** Whether a connection can accept Global Token Revocation requests (otherwise 403). */
export function universalLogoutEnabled(strategy: ConnectionStrategy, options: Record<string, unknown>): boolean {
  if (strategy === 'samlp') {
    return (
      typeof options.global_token_revocation_jwt_iss === 'string' &&
      typeof options.global_token_revocation_jwt_sub === 'string' &&
      (typeof options.signing_cert === 'string' || typeof options.global_token_revocation_jwks_uri === 'string')
    );
  }
  return typeof options.issuer === 'string' && typeof options.client_id === 'string';
}
