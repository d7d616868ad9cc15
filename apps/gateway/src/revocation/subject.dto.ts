import { applyDecorators } from '@nestjs/common';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsIn, IsString, Matches, MaxLength, MinLength } from 'class-validator';

/** Identifiers in one `aliases` subject: each is a lookup, and Okta sends a handful at most. */
export const MAX_ALIASES = 20;
/** Characters in one member (an issuer URL, an email address, a user id). */
export const MAX_MEMBER_LENGTH = 1024;

export const SUBJECT_FORMATS = ['iss_sub', 'email', 'opaque', 'aliases'] as const;

/**
 * A member of a subject identifier: text that PostgreSQL can store (no NUL) and that no identifier
 * holds otherwise (control characters), not blank, not overlong. Checked in this order.
 */
const Identifier = () =>
  applyDecorators(
    IsString({ message: 'is required' }),
    Matches(/\S/, { message: 'is required' }),
    MaxLength(MAX_MEMBER_LENGTH, { message: `is longer than ${MAX_MEMBER_LENGTH} characters` }),
    Matches(/^[^\u0000-\u001f\u007f-\u009f]*$/, { message: 'contains control characters' }),
  );

// A member's checks run bottom-up (class-validator registers the decorator nearest the member
// first), one at a time: the first that fails is the answer.

/** What every subject has, read first: which of the formats below applies (RFC 9493 §3). */
export class SubjectFormatDto {
  @IsString({ message: 'is required' })
  @MinLength(1, { message: 'is required' })
  format: string;
}

/** RFC 9493 §3.2.3 `iss_sub`: the user whose identity at this connection has this issuer and subject. */
export class IssSubSubjectDto {
  @IsIn(['iss_sub'])
  format: 'iss_sub';

  @Identifier()
  iss: string;

  @Identifier()
  sub: string;
}

/** RFC 9493 §3.2.2 `email`: matched in its normalised form among the connection's users. */
export class EmailSubjectDto {
  @IsIn(['email'])
  format: 'email';

  @Matches(/^[^@\s]+@[^@\s]+$/, { message: 'is not an email address' })
  @Identifier()
  email: string;
}

/** RFC 9493 §3.2.4 `opaque`: this service's own user_id. */
export class OpaqueSubjectDto {
  @IsIn(['opaque'])
  format: 'opaque';

  @Identifier()
  id: string;
}

/** RFC 9493 §3.2.1 `aliases`: several identifiers of one person, each tried; never nested. */
export class AliasesSubjectDto {
  @IsIn(['aliases'])
  format: 'aliases';

  @ArrayMaxSize(MAX_ALIASES, { message: `may hold at most ${MAX_ALIASES} identifiers` })
  @ArrayNotEmpty({ message: 'must be a non-empty array' })
  @IsArray({ message: 'must be a non-empty array' })
  identifiers: unknown[];
}
