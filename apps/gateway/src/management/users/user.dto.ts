import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsEmail, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateNested } from 'class-validator';

// user_id appears in paths and as the logout token's `sub`: no whitespace, no slash.
const USER_ID = /^[^\s/]+$/;

export class UserIdentityDto {
  @ApiProperty({ example: 'acme-okta', description: 'The name of an existing connection' })
  @IsString()
  @MinLength(1)
  connection: string;

  @ApiProperty({ example: '00u1abcd', description: 'The IdP subject (`sub`)' })
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  provider_user_id: string;

  @ApiProperty({ example: 'https://acme.okta.com', description: 'The IdP issuer (`iss`)' })
  @IsString()
  @MinLength(1)
  @MaxLength(2048)
  issuer: string;
}

export class CreateUserDto {
  @ApiPropertyOptional({ example: 'auth0|65a1b2c3d4e5f60718293a4b', description: 'Generated when absent' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  @Matches(USER_ID, { message: 'user_id must not contain whitespace or "/"' })
  user_id?: string;

  @ApiPropertyOptional({ example: 'jane@example.com' })
  @IsOptional()
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(320)
  email?: string;

  @ApiPropertyOptional({ type: [UserIdentityDto] })
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => UserIdentityDto)
  identities?: UserIdentityDto[];
}
