import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsObject, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { CONNECTION_STRATEGIES, ConnectionStrategy } from '@ulo/contracts';
import { CheckpointQuery } from '../paging/checkpoint-page';

const NAME = /^[a-zA-Z0-9](-?[a-zA-Z0-9])*$/;

export class CreateConnectionDto {
  @ApiProperty({ example: 'acme-okta', description: 'Unique; part of the revocation endpoint URL. Immutable.' })
  @IsString()
  @MaxLength(128)
  @Matches(NAME, { message: 'name must be letters and digits, optionally separated by single hyphens' })
  name: string;

  @ApiProperty({ enum: CONNECTION_STRATEGIES })
  @IsIn(CONNECTION_STRATEGIES, { message: `strategy must be one of: ${CONNECTION_STRATEGIES.join(', ')}` })
  strategy: ConnectionStrategy;

  @ApiPropertyOptional({
    description:
      'okta/oidc: issuer, client_id, jwks_uri. samlp: global_token_revocation_jwt_iss, global_token_revocation_jwt_sub, signing_cert, global_token_revocation_jwks_uri. ' +
      'Any strategy: ssf {issuer, audience, push_authorization, client_id, client_secret, actions} (Shared Signals push; secrets sealed, never returned)',
    type: 'object',
    additionalProperties: true,
  })
  @IsOptional()
  @IsObject()
  options?: Record<string, unknown>;
}

export class UpdateConnectionDto {
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: "Replaces the options; ssf's secrets are kept as stored unless given, or unless ssf.issuer changes",
  })
  @IsOptional()
  @IsObject()
  options?: Record<string, unknown>;
}

export class ListConnectionsQuery extends CheckpointQuery {
  @IsOptional()
  @IsIn(CONNECTION_STRATEGIES)
  strategy?: ConnectionStrategy;

  @IsOptional()
  @IsString()
  name?: string;
}
