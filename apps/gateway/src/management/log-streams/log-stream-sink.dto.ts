import { applyDecorators } from '@nestjs/common';
import {
  ArrayMaxSize,
  ArrayUnique,
  Equals,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  NotEquals,
  Validate,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { HTTP_CONTENT_FORMATS, logCategories, type HttpContentFormat, type LogCategory } from '@ulo/contracts';

// A member's checks run bottom-up (class-validator registers the decorator nearest the member
// first), one at a time: the first that fails is the answer.

/** What GET shows in place of a custom header's value: never a value to store. */
export const REDACTED = '[redacted]';
export const MAX_CUSTOM_HEADERS = 20;
export const MAX_FILTERS = 20;

/** Set by the log-streamer itself, or by the HTTP client: a custom header must not replace them. */
const RESERVED_HEADERS = new Set([
  'authorization',
  'content-type',
  'content-length',
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
]);

@ValidatorConstraint({ name: 'notReservedHeader' })
class NotReservedHeaderConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && !RESERVED_HEADERS.has(value.toLowerCase());
  }

  defaultMessage(): string {
    return 'is set by the service and cannot be customised';
  }
}

/** A header value: sent as is, so no line break can split the request (RFC 9110 §5.5). */
const HeaderText = (max = 4096) =>
  applyDecorators(
    IsString({ message: 'must be a non-empty string' }),
    MinLength(1, { message: 'must be a non-empty string' }),
    MaxLength(max, { message: `must be at most ${max} characters` }),
    Matches(/^[^\r\n\0]*$/, { message: 'must not contain line breaks' }),
  );

/** SPEC §5 `httpCustomHeaders[]`. */
export class CustomHeaderDto {
  @Validate(NotReservedHeaderConstraint)
  // RFC 9110 §5.1 field-name token.
  @Matches(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { message: 'must be an HTTP header name' })
  @IsString({ message: 'must be an HTTP header name' })
  header: string;

  // A GET-edit-PATCH round trip would otherwise replace the real value with the placeholder.
  @NotEquals(REDACTED, { message: `is the "${REDACTED}" placeholder GET shows: give the header's real value` })
  @HeaderText()
  value: string;
}

/** SPEC §5 `type: "http"`. The URL rules of SPEC §4 are the policy's (they depend on the deployment). */
export class HttpSinkDto {
  @IsString({ message: 'is required: the URL events are POSTed to' })
  httpEndpoint: string;

  /** Sent verbatim as the Authorization header; null removes it. */
  @IsOptional()
  @HeaderText()
  httpAuthorization?: string | null;

  @IsOptional()
  // A media type: type/subtype with optional parameters.
  @Matches(/^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;\s*[^\s;=]+=[^;]+)*$/, {
    message: 'must be a media type such as application/json',
  })
  @HeaderText(255)
  httpContentType?: string;

  @IsOptional()
  @IsIn(HTTP_CONTENT_FORMATS, { message: `must be one of: ${HTTP_CONTENT_FORMATS.join(', ')}` })
  httpContentFormat?: HttpContentFormat;

  /** Each element is a {@link CustomHeaderDto}; header names are case-insensitive, so unique in lower case. */
  @IsOptional()
  @ArrayUnique((h: unknown) => String((h as { header?: unknown } | null)?.header).toLowerCase(), {
    message: 'holds a header that appears more than once (names are case-insensitive)',
  })
  @ArrayMaxSize(MAX_CUSTOM_HEADERS, { message: `may hold at most ${MAX_CUSTOM_HEADERS} headers` })
  @IsArray({ message: 'must be an array of {header, value}' })
  httpCustomHeaders?: unknown[];
}

/** SPEC §5 `type: "kafka"`. The topic prefix and the service's own topics are the policy's. */
export class KafkaSinkDto {
  @Matches(/^(?!__)/, { message: 'must not start with "__" (Kafka internal topics)' })
  // Kafka's own limits on topic names.
  @Matches(/^(?!\.\.?$)[A-Za-z0-9._-]{1,249}$/, { message: 'must be 1 to 249 letters, digits, ".", "_" or "-"' })
  @IsString({ message: 'is required: the Kafka topic events are published to' })
  topic: string;
}

/** SPEC §5 `filters[]`. */
export class LogStreamFilterDto {
  @Equals('category', { message: 'must be "category"' })
  type: 'category';

  @IsIn(logCategories, { message: `must be one of: ${logCategories.join(', ')}` })
  name: LogCategory;
}
