import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import {
  BACKCHANNEL_LOGOUT_INITIATORS,
  BackchannelLogoutInitiator,
  DEFAULT_SIGNING_ALGORITHM,
  INITIATOR_MODES,
  InitiatorMode,
  SIGNING_ALGORITHMS,
  SigningAlgorithm,
} from '@ulo/contracts';

// client_id appears in paths and in logout tokens' `aud`: keep it to URL-safe characters.
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._~-]*$/;

export class BackchannelLogoutInitiatorsDto {
  @ApiProperty({ enum: INITIATOR_MODES, description: '`all`: every initiator; `custom`: those selected' })
  @IsIn(INITIATOR_MODES, { message: `mode must be one of: ${INITIATOR_MODES.join(', ')}` })
  mode: InitiatorMode;

  @ApiPropertyOptional({ enum: BACKCHANNEL_LOGOUT_INITIATORS, isArray: true, description: 'Required when mode is custom' })
  @ValidateIf((o: BackchannelLogoutInitiatorsDto) => o.mode === 'custom' || o.selected_initiators !== undefined)
  @IsArray({ message: 'selected_initiators must be an array (required when mode is custom)' })
  @ArrayUnique({ message: 'selected_initiators must not repeat an initiator' })
  @IsIn(BACKCHANNEL_LOGOUT_INITIATORS, { each: true, message: `selected_initiators may hold only: ${BACKCHANNEL_LOGOUT_INITIATORS.join(', ')}` })
  selected_initiators?: BackchannelLogoutInitiator[];
}

export class OidcLogoutDto {
  @ApiProperty({
    type: [String],
    example: ['https://app.example.com/backchannel-logout'],
    description: 'Exactly one URL',
  })
  @IsArray({ message: 'backchannel_logout_urls must be an array holding one URL' })
  @ArrayMinSize(1, { message: 'backchannel_logout_urls must hold exactly one URL' })
  @ArrayMaxSize(1, { message: 'backchannel_logout_urls must hold exactly one URL' })
  @IsString({ each: true, message: 'backchannel_logout_urls must hold a URL string' })
  backchannel_logout_urls: string[];

  @ApiPropertyOptional({
    type: BackchannelLogoutInitiatorsDto,
    description: 'Default: custom, rp-logout and idp-logout',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => BackchannelLogoutInitiatorsDto)
  backchannel_logout_initiators?: BackchannelLogoutInitiatorsDto;

  @ApiPropertyOptional({
    default: true,
    description:
      'true: one logout token per session, with `sid`. false: when a logout ends all of the user\'s sessions, one token per user carrying `sub` and no `sid` (OIDC Back-Channel Logout 1.0 §2.4)',
  })
  @IsOptional()
  @IsBoolean({ message: 'backchannel_logout_session_required must be true or false' })
  backchannel_logout_session_required?: boolean;

  @ApiPropertyOptional({ enum: SIGNING_ALGORITHMS, default: DEFAULT_SIGNING_ALGORITHM, description: 'The logout tokens\' signature algorithm' })
  @IsOptional()
  @IsIn(SIGNING_ALGORITHMS, { message: `backchannel_logout_signing_alg must be one of: ${SIGNING_ALGORITHMS.join(', ')}` })
  backchannel_logout_signing_alg?: SigningAlgorithm;
}

export class CreateClientDto {
  @ApiPropertyOptional({ description: 'Generated (32 alphanumeric characters) when absent. Immutable.' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  @Matches(CLIENT_ID, {
    message: 'client_id must be letters, digits, ".", "_", "~" or "-", starting with a letter or digit',
  })
  client_id?: string;

  @ApiProperty({ example: 'Acme Portal' })
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  name: string;

  @ApiPropertyOptional({ type: OidcLogoutDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => OidcLogoutDto)
  oidc_logout?: OidcLogoutDto | null;
}

export class UpdateClientDto {
  @ApiPropertyOptional()
  @ValidateIf((o: UpdateClientDto) => o.name !== undefined)
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  name?: string;

  @ApiPropertyOptional({ type: OidcLogoutDto, nullable: true, description: 'Replaces the settings; null removes them' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => OidcLogoutDto)
  oidc_logout?: OidcLogoutDto | null;
}
