import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayUnique,
  IsArray,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';

// Session ids are the logout token's `sid` and appear in paths: URL-safe characters only.
const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9._~-]*$/;

export class SessionClientDto {
  @ApiProperty({ example: 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  client_id: string;
}

export class CreateSessionDto {
  @ApiPropertyOptional({ description: 'Generated when absent' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  @Matches(SESSION_ID, { message: 'id must be letters, digits, ".", "_", "~" or "-", starting with a letter or digit' })
  id?: string;

  @ApiProperty({ example: 'auth0|65a1b2c3d4e5f60718293a4b', description: 'An existing user' })
  @IsString()
  @MinLength(1)
  user_id: string;

  @ApiPropertyOptional({ type: [SessionClientDto], description: 'The applications signed in with this session' })
  @IsOptional()
  @IsArray()
  @ArrayUnique((c: SessionClientDto) => c?.client_id, { message: 'clients must not repeat a client_id' })
  @ValidateNested({ each: true })
  @Type(() => SessionClientDto)
  clients?: SessionClientDto[];

  @ApiPropertyOptional({ example: '2026-12-31T23:59:59Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'expires_at must be an ISO 8601 date-time' })
  expires_at?: string;
}
