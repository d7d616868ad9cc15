import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

// Refresh token ids appear in paths and in `srrt` log details: URL-safe characters only.
const TOKEN_ID = /^[A-Za-z0-9][A-Za-z0-9._~-]*$/;

export class CreateRefreshTokenDto {
  @ApiPropertyOptional({ description: 'Generated when absent. The id, never the token itself.' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  @Matches(TOKEN_ID, { message: 'id must be letters, digits, ".", "_", "~" or "-", starting with a letter or digit' })
  id?: string;

  @ApiProperty({ example: 'auth0|65a1b2c3d4e5f60718293a4b', description: 'An existing user' })
  @IsString()
  @MinLength(1)
  user_id: string;

  @ApiProperty({ example: 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6', description: 'The application it was issued to' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  client_id: string;

  @ApiPropertyOptional({ description: 'A session of the same user; absent for offline tokens' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  session_id?: string;

  @ApiPropertyOptional({ example: '2027-01-31T23:59:59Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'expires_at must be an ISO 8601 date-time' })
  expires_at?: string;
}
