import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { LogEventType, logEventTypes } from '@ulo/contracts';
import { CheckpointQuery } from '../paging/checkpoint-page';

const types = Object.keys(logEventTypes) as LogEventType[];

/**
 * SPEC §5 `GET /api/v2/logs`: checkpoint paging in log_id order (`from`: the last log_id seen,
 * exclusive; `take`: 1..100), each filter exact, the date range [from_date, to_date).
 */
export class ListLogsQuery extends CheckpointQuery {
  @ApiPropertyOptional({ enum: types })
  @IsOptional()
  @IsIn(types, { message: `type must be one of: ${types.join(', ')}` })
  type?: LogEventType;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(255)
  user_id?: string;

  @ApiPropertyOptional({ description: 'The connection name' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  connection?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(255)
  client_id?: string;

  @ApiPropertyOptional({ example: '2026-01-01T00:00:00Z', description: 'Events at or after this time (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from_date must be an ISO 8601 date or date-time' })
  from_date?: string;

  @ApiPropertyOptional({ example: '2026-02-01T00:00:00Z', description: 'Events before this time (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to_date must be an ISO 8601 date or date-time' })
  to_date?: string;
}
