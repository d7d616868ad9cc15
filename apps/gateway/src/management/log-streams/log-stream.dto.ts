import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsIn, IsObject, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { LOG_STREAM_TYPES, LogStreamType, SETTABLE_LOG_STREAM_STATUSES } from '@ulo/contracts';

type SettableStatus = (typeof SETTABLE_LOG_STREAM_STATUSES)[number];


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

  @ApiProperty({ enum: LOG_STREAM_TYPES })
  @IsIn(LOG_STREAM_TYPES, { message: `type must be one of: ${LOG_STREAM_TYPES.join(', ')}` })
  type: LogStreamType;

  @ApiProperty({ type: 'object', additionalProperties: true, description: SINK_DOC })
  @IsObject({ message: 'sink must be an object' })
  sink: Record<string, unknown>;

  @ApiPropertyOptional({ description: '[{type: "category", name}]; none: every event', isArray: true })
  @IsOptional()
  @IsArray({ message: 'filters must be an array of {type: "category", name}' })
  filters?: unknown[];

  @ApiPropertyOptional({ enum: SETTABLE_LOG_STREAM_STATUSES, default: 'active' })
  @IsOptional()
  @IsIn(SETTABLE_LOG_STREAM_STATUSES, { message: `status must be one of: ${SETTABLE_LOG_STREAM_STATUSES.join(', ')}` })
  status?: SettableStatus;
}

export class UpdateLogStreamDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  name?: string;

  @ApiPropertyOptional({
    enum: SETTABLE_LOG_STREAM_STATUSES,
    description: '`active` resumes a paused or suspended stream where it stopped; `paused` keeps its position',
  })
  @IsOptional()
  @IsIn(SETTABLE_LOG_STREAM_STATUSES, { message: `status must be one of: ${SETTABLE_LOG_STREAM_STATUSES.join(', ')}` })
  status?: SettableStatus;

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
