import { DEFAULT_SSF_ACTIONS, type SsfActions, type SsfDelivery } from '@ulo/contracts';
import type { StoredSsfOptions } from '@ulo/persistence';
import { UnsafeUrlException, assertSafeUrlSyntax } from '@ulo/security';
import { validInput } from '../validation/valid-input';
import { SsfActionsDto, SsfOptionsDto } from './ssf-options.dto';

export class InvalidSsfOptionsException extends Error {}

/** SPEC §9 `options.ssf` as a caller wrote it, validated, with the default actions filled in; secrets in the clear. */
export interface SsfOptionsInput {
  issuer: string;
  audience: string;
  push_authorization?: string;
  client_id?: string;
  client_secret?: string;
  actions: SsfActions;
  delivery: SsfDelivery;
}

/**
 * SPEC §9: the shape of `options.ssf` by its DTOs (no unknown members: a misspelt secret must not
 * be stored in the clear as an unknown member), then the issuer by the outbound rules of SPEC §4,
 * since its configuration (and keys) are fetched from it.
 */
export function validateSsfOptions(raw: unknown, allowPrivateNetwork: boolean): SsfOptionsInput {
  let dto: SsfOptionsDto;
  let actions: SsfActionsDto;
  try {
    dto = validInput(SsfOptionsDto, raw, 'options.ssf');
    actions = dto.actions === undefined || dto.actions === null ? {} : validInput(SsfActionsDto, dto.actions, 'options.ssf.actions');
  } catch (err) {
    throw new InvalidSsfOptionsException((err as Error).message);
  }
  try {
    assertSafeUrlSyntax(dto.issuer, allowPrivateNetwork);
  } catch (err) {
    if (err instanceof UnsafeUrlException) throw new InvalidSsfOptionsException(`options.ssf.issuer ${err.message}`);
    throw err;
  }
  // null is "not given", as for any optional member.
  const given = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);
  return {
    issuer: dto.issuer,
    audience: dto.audience,
    ...(given(dto.push_authorization) !== undefined ? { push_authorization: dto.push_authorization } : {}),
    ...(given(dto.client_id) !== undefined ? { client_id: dto.client_id } : {}),
    ...(given(dto.client_secret) !== undefined ? { client_secret: dto.client_secret } : {}),
    actions: {
      'session-revoked': actions['session-revoked'] ?? DEFAULT_SSF_ACTIONS['session-revoked'],
      'credential-change': actions['credential-change'] ?? DEFAULT_SSF_ACTIONS['credential-change'],
    },
    delivery: given(dto.delivery) ?? 'push',
  };
}

/** A secret to seal from the caller's value, or the stored sealed value to keep. */
export type SecretPlan = { seal: string } | { keep: string };

export interface SsfSecretsPlan {
  pushAuthorization: SecretPlan;
  /** null: the connection has no client credentials. */
  clientSecret: SecretPlan | null;
}

/**
 * SPEC §6, §9: what becomes of the secrets when `given` is written over `stored` (none on create).
 * A secret given is sealed; one not given is kept as stored, unless `given` changes where it goes:
 *
 *  - `push_authorization` is required when ssf is set; kept while the issuer stays the same;
 *  - `client_id` and `client_secret` are both set or neither; the secret is kept while the issuer
 *    and the client id stay the same (a secret belongs to one client of one transmitter);
 *  - a new issuer needs every secret the connection holds again: a caller who can PATCH cannot
 *    send credentials they were never shown to a transmitter of their choosing.
 */
export function planSsfSecrets(given: SsfOptionsInput, stored: StoredSsfOptions | null): SsfSecretsPlan {
  const sameIssuer = stored !== null && stored.issuer === given.issuer;
  if (stored !== null && !sameIssuer) {
    const missing = [
      ...(given.push_authorization === undefined ? ['options.ssf.push_authorization'] : []),
      ...(stored.client_secret_sealed !== undefined && given.client_id !== undefined && given.client_secret === undefined
        ? ['options.ssf.client_secret']
        : []),
    ];
    if (missing.length > 0) {
      throw new InvalidSsfOptionsException(`changing options.ssf.issuer sends the connection's credentials elsewhere: give ${missing.join(' and ')} again`);
    }
  }
  let pushAuthorization: SecretPlan;
  if (given.push_authorization !== undefined) pushAuthorization = { seal: given.push_authorization };
  else if (sameIssuer) pushAuthorization = { keep: stored.push_authorization_sealed };
  else throw new InvalidSsfOptionsException('options.ssf.push_authorization is required: the Authorization header the transmitter pushes with');

  if (given.client_secret !== undefined && given.client_id === undefined) {
    throw new InvalidSsfOptionsException('options.ssf.client_secret and options.ssf.client_id must be set together');
  }
  if (given.client_id === undefined) return { pushAuthorization, clientSecret: null };
  if (given.client_secret !== undefined) return { pushAuthorization, clientSecret: { seal: given.client_secret } };
  if (sameIssuer && stored.client_secret_sealed !== undefined) {
    if (stored.client_id !== given.client_id) {
      throw new InvalidSsfOptionsException('changing options.ssf.client_id needs options.ssf.client_secret again');
    }
    return { pushAuthorization, clientSecret: { keep: stored.client_secret_sealed } };
  }
  throw new InvalidSsfOptionsException('options.ssf.client_id and options.ssf.client_secret must be set together');
}
