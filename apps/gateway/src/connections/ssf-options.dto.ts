import { applyDecorators } from '@nestjs/common';
import { IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import {
  SSF_DELIVERIES,
  type SsfDelivery,
  CREDENTIAL_CHANGE_ACTIONS,
  SESSION_REVOKED_ACTIONS,
  type CredentialChangeAction,
  type SessionRevokedAction,
} from '@ulo/contracts';

// A member's checks run bottom-up (class-validator registers the decorator nearest the member
// first), one at a time: the first that fails is the answer. The issuer's URL rules (SPEC §4) are
// the policy's: they depend on the deployment.

/** Text compared with what a transmitter sends (an audience, a client id): not blank, no control characters. */
const Identifier = (max: number) =>
  applyDecorators(
    IsString({ message: 'must be a non-empty string' }),
    MinLength(1, { message: 'must be a non-empty string' }),
    MaxLength(max, { message: `must be at most ${max} characters` }),
    Matches(/^[^\u0000-\u001f\u007f]*$/, { message: 'must not contain control characters' }),
  );

/**
 * A credential a header carries (RFC 9110 §5.5): visible ASCII and inner spaces only, so that it
 * is compared with the header exactly as it arrives (a server drops outer whitespace).
 */
const HeaderCredential = () =>
  applyDecorators(
    IsString({ message: 'must be a non-empty string' }),
    MinLength(1, { message: 'must be a non-empty string' }),
    MaxLength(4096, { message: 'must be at most 4096 characters' }),
    Matches(/^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/, {
      message: 'must be printable ASCII without leading or trailing spaces (it is an HTTP header value)',
    }),
  );

/** SPEC §9 `options.ssf.actions`: what each CAEP event does (defaults: logout, revoke-refresh-tokens). */
export class SsfActionsDto {
  @IsOptional()
  @IsIn(SESSION_REVOKED_ACTIONS, { message: `must be one of: ${SESSION_REVOKED_ACTIONS.join(', ')}` })
  'session-revoked'?: SessionRevokedAction;

  @IsOptional()
  @IsIn(CREDENTIAL_CHANGE_ACTIONS, { message: `must be one of: ${CREDENTIAL_CHANGE_ACTIONS.join(', ')}` })
  'credential-change'?: CredentialChangeAction;
}

/**
 * SPEC §9 `options.ssf`, as a caller writes it. `push_authorization` is required unless a PATCH
 * keeps the stored one; `client_id` and `client_secret` go together (the policy checks both, since
 * a PATCH may keep a stored secret). `actions` is checked by {@link SsfActionsDto}.
 */
export class SsfOptionsDto {
  @IsString({ message: 'is required: the SSF transmitter issuer URL' })
  issuer: string;

  @Identifier(2048)
  audience: string;

  @IsOptional()
  @HeaderCredential()
  push_authorization?: string;

  @IsOptional()
  @Identifier(256)
  client_id?: string;

  @IsOptional()
  @Identifier(4096)
  client_secret?: string;

  @IsOptional()
  @IsIn(SSF_DELIVERIES, { message: `must be one of: ${SSF_DELIVERIES.join(', ')}` })
  delivery?: SsfDelivery;

  @IsOptional()
  actions?: unknown;
}
