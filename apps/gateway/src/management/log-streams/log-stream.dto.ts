import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsIn, IsObject, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

export const streamTypes = ['http', 'kafka'] as const;
/** `suspended` is the service's verdict on a failing stream; callers set `active` or `paused`. */
export const settableStatuses = ['active', 'paused'] as const;

const SINK_DOC =
  'http: {httpEndpoint, httpAuthorization (write-only), httpContentType (default application/json), ' +
  'httpContentFormat JSONARRAY | JSONLINES | JSONOBJECT (default JSONARRAY), httpCustomHeaders: [{header, value}]}; ' +
  'kafka: {topic}';

export class CreateLogStreamDto {
  @ApiProperty({ example: 'SIEM' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  name: string;

  @ApiProperty({ enum: streamTypes })
  @IsIn(streamTypes, { message: `type must be one of: ${streamTypes.join(', ')}` })
  type: (typeof streamTypes)[number];

  @ApiProperty({ type: 'object', additionalProperties: true, description: SINK_DOC })
  @IsObject({ message: 'sink must be an object' })
  sink: Record<string, unknown>;

  @ApiPropertyOptional({ description: '[{type: "category", name}]; none: every event', isArray: true })
  @IsOptional()
  @IsArray({ message: 'filters must be an array of {type: "category", name}' })
  filters?: unknown[];

  @ApiPropertyOptional({ enum: settableStatuses, default: 'active' })
  @IsOptional()
  @IsIn(settableStatuses, { message: `status must be one of: ${settableStatuses.join(', ')}` })
  status?: (typeof settableStatuses)[number];
}

export class UpdateLogStreamDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  name?: string;

  @ApiPropertyOptional({
    enum: settableStatuses,
    description: '`active` resumes a paused or suspended stream where it stopped; `paused` keeps its position',
  })
  @IsOptional()
  @IsIn(settableStatuses, { message: `status must be one of: ${settableStatuses.join(', ')}` })
  status?: (typeof settableStatuses)[number];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: `Members to change (the type stays); httpAuthorization null removes it. ${SINK_DOC}`,
  })
  @IsOptional()
  @IsObject({ message: 'sink must be an object' })
  sink?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Replaces the filters; applies to events from then on', isArray: true })
  @IsOptional()
  @IsArray({ message: 'filters must be an array of {type: "category", name}' })
  filters?: unknown[];
}
