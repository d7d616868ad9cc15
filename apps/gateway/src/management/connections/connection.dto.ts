import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsObject, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { CheckpointQuery } from '../paging/checkpoint-page';

export const strategies = ['okta', 'oidc', 'samlp'] as const;
const NAME = /^[a-zA-Z0-9](-?[a-zA-Z0-9])*$/;

export class CreateConnectionDto {
  @ApiProperty({ example: 'acme-okta', description: 'Unique; part of the revocation endpoint URL. Immutable.' })
  @IsString()
  @MaxLength(128)
  @Matches(NAME, { message: 'name must be letters and digits, optionally separated by single hyphens' })
  name: string;

  @ApiProperty({ enum: strategies })
  @IsIn(strategies, { message: `strategy must be one of: ${strategies.join(', ')}` })
  strategy: (typeof strategies)[number];

  @ApiPropertyOptional({
    description:
      'okta/oidc: issuer, client_id, jwks_uri. samlp: global_token_revocation_jwt_iss, global_token_revocation_jwt_sub, signing_cert, global_token_revocation_jwks_uri',
    type: 'object',
    additionalProperties: true,
  })
  @IsOptional()
  @IsObject()
  options?: Record<string, unknown>;
}

export class UpdateConnectionDto {
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Replaces the options' })
  @IsOptional()
  @IsObject()
  options?: Record<string, unknown>;
}

export class ListConnectionsQuery extends CheckpointQuery {
  @IsOptional()
  @IsIn(strategies)
  strategy?: string;

  @IsOptional()
  @IsString()
  name?: string;
}
