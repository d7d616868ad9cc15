import type { ConnectionStrategy } from '@ulo/contracts';
import { UnsafeUrlException, assertSafeUrlSyntax } from '@ulo/security';
import { validInput } from '../validation/valid-input';
import { OidcConnectionOptionsDto, SamlConnectionOptionsDto } from './connection-options.dto';
import { InvalidSsfOptionsException, validateSsfOptions } from './ssf-options.policy';

export class InvalidConnectionOptionsException extends Error {}

const URL_OPTIONS = ['issuer', 'jwks_uri', 'global_token_revocation_jwks_uri'] as const;

/**
 * SPEC §2 trust anchors, checked when a connection is written so that a logout never meets a
 * half-configured connection: the options' shape by the strategy's DTO, then every URL by the
 * outbound rules of SPEC §4; `ssf` (SPEC §9, any strategy) by its own rules. Returns the
 * normalised options (signingCert → signing_cert; `ssf` validated, its default actions filled in,
 * its secrets still in the clear: the caller seals them).
 */
export function validateConnectionOptions(
  strategy: ConnectionStrategy,
  input: Record<string, unknown>,
  allowPrivateNetwork: boolean,
): Record<string, unknown> {
  const options = { ...input };
  if (options.signingCert !== undefined && options.signing_cert === undefined) options.signing_cert = options.signingCert;
  delete options.signingCert;
  try {
    if (strategy === 'samlp') validInput(SamlConnectionOptionsDto, options, 'options', { allowUnknown: true });
    else validInput(OidcConnectionOptionsDto, options, 'options', { allowUnknown: true });
  } catch (err) {
    throw new InvalidConnectionOptionsException((err as Error).message);
  }
  for (const key of URL_OPTIONS) {
    const url = options[key];
    if (typeof url !== 'string') continue;
    try {
      assertSafeUrlSyntax(url, allowPrivateNetwork);
    } catch (err) {
      if (err instanceof UnsafeUrlException) throw new InvalidConnectionOptionsException(`options.${key} ${err.message}`);
      throw err;
    }
  }
  if (options.ssf !== undefined) {
    try {
      options.ssf = validateSsfOptions(options.ssf, allowPrivateNetwork);
    } catch (err) {
      if (err instanceof InvalidSsfOptionsException) throw new InvalidConnectionOptionsException(err.message);
      throw err;
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
