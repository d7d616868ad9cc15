import {
  IsOptional,
  IsString,
  MinLength,
  Validate,
  ValidateIf,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { parseCertificate } from './certificate';

@ValidatorConstraint({ name: 'x509Certificate' })
class X509CertificateConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    try {
      parseCertificate(value as string);
      return true;
    } catch {
      return false;
    }
  }

  defaultMessage(): string {
    return 'is not a valid X.509 certificate';
  }
}

/** The member and the one named in the constraint are both given or both absent. */
@ValidatorConstraint({ name: 'setTogether' })
class SetTogetherConstraint implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    const [other] = args.constraints as [string];
    return (value === undefined) === ((args.object as Record<string, unknown>)[other] === undefined);
  }

  defaultMessage(args: ValidationArguments): string {
    return `and options.${String(args.constraints[0])} must be set together`;
  }
}

// A member's checks run bottom-up (class-validator registers the decorator nearest the member
// first), one at a time: the first that fails is the answer. Members a DTO does not declare stay
// (an IdP's own connection settings); the service checks URLs against the outbound rules.

/** SPEC §2.2 `okta` and `oidc`: keys from `jwks_uri` or the issuer's discovery; iss = issuer, sub = client_id. */
export class OidcConnectionOptionsDto {
  @IsOptional()
  @IsString({ message: 'must be a URL' })
  issuer?: string;

  @IsOptional()
  @MinLength(1, { message: 'must be a non-empty string' })
  @IsString({ message: 'must be a non-empty string' })
  client_id?: string;

  @IsOptional()
  @IsString({ message: 'must be a URL' })
  jwks_uri?: string;
}

/**
 * SPEC §2.2 `samlp`: iss and sub from `global_token_revocation_jwt_iss` / `_jwt_sub` (both or
 * neither), keys from the SAML signing certificate (`signing_cert`, Auth0's `signingCert`) or
 * `global_token_revocation_jwks_uri`.
 */
export class SamlConnectionOptionsDto {
  @ValidateIf((o: SamlConnectionOptionsDto) => o.global_token_revocation_jwt_iss !== undefined || o.global_token_revocation_jwt_sub !== undefined)
  @MinLength(1, { message: 'must be a non-empty string' })
  @IsString({ message: 'must be a non-empty string' })
  @Validate(SetTogetherConstraint, ['global_token_revocation_jwt_sub'])
  global_token_revocation_jwt_iss?: string;

  @IsOptional()
  @MinLength(1, { message: 'must be a non-empty string' })
  @IsString({ message: 'must be a non-empty string' })
  global_token_revocation_jwt_sub?: string;

  @IsOptional()
  @Validate(X509CertificateConstraint)
  @IsString({ message: 'must be an X.509 certificate (PEM or base64 DER)' })
  signing_cert?: string;

  @IsOptional()
  @IsString({ message: 'must be a URL' })
  global_token_revocation_jwks_uri?: string;
}
