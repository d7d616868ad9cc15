import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { LOGOUT_REQUEST_INITIATORS, type Initiator } from '@ulo/contracts';
import { CheckpointQuery } from '../paging/checkpoint-page';

/** Where a logout request stands: its steps still running, or all of them recorded (`completed_at`). */
export const LOGOUT_REQUEST_STATUSES = ['in_progress', 'completed'] as const;
export type LogoutRequestStatus = (typeof LOGOUT_REQUEST_STATUSES)[number];

/**
 * SPEC §6 `GET /api/v2/logout-requests`: newest first, checkpoint paging (`from`: the id of the
 * last request of the previous page, exclusive), the filters combined (AND), each exact (`email`
 * after normalisation), acceptance in [from_date, to_date).
 */
export class ListLogoutRequestsQuery extends CheckpointQuery {
  @ApiPropertyOptional({ description: 'Requests that matched this user' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  user_id?: string;

  @ApiPropertyOptional({
    example: 'jane@example.com',
    description: 'Requests that matched a user with this email, both normalised as GTR email subjects are (case-insensitive, IDNA domain)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(320)
  email?: string;

  @ApiPropertyOptional({ description: 'The connection name' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  connection?: string;

  @ApiPropertyOptional({ enum: LOGOUT_REQUEST_INITIATORS })
  @IsOptional()
  @IsIn(LOGOUT_REQUEST_INITIATORS, { message: `initiator must be one of: ${LOGOUT_REQUEST_INITIATORS.join(', ')}` })
  initiator?: Initiator;

  @ApiPropertyOptional({ enum: LOGOUT_REQUEST_STATUSES })
  @IsOptional()
  @IsIn(LOGOUT_REQUEST_STATUSES, { message: `status must be one of: ${LOGOUT_REQUEST_STATUSES.join(', ')}` })
  status?: LogoutRequestStatus;

  @ApiPropertyOptional({ example: '2026-01-01T00:00:00Z', description: 'Accepted at or after this time (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from_date must be an ISO 8601 date or date-time' })
  from_date?: string;

  @ApiPropertyOptional({ example: '2026-02-01T00:00:00Z', description: 'Accepted before this time (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to_date must be an ISO 8601 date or date-time' })
  to_date?: string;
}
