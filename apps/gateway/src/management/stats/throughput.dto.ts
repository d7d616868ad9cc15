import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const DEFAULT_THROUGHPUT_MINUTES = 5;
export const MAX_THROUGHPUT_MINUTES = 60;

/** `GET /api/v2/stats/throughput`: how far back the window reaches. */
export class ThroughputQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_THROUGHPUT_MINUTES, default: DEFAULT_THROUGHPUT_MINUTES, description: 'Length of the window' })
  @IsOptional()
  // Decimal digits only: '0x10', '1e1' and ' 5' are no minutes, whatever Number() makes of them.
  @Transform(({ value }) => (typeof value === 'string' && /^[0-9]{1,3}$/.test(value) ? Number(value) : value))
  @IsInt()
  @Min(1)
  @Max(MAX_THROUGHPUT_MINUTES)
  minutes?: number;
}

export class ThroughputBucket {
  @ApiProperty({ example: '2026-01-01T12:00:00.000Z', description: 'Start of the bucket; it lasts until the next one starts (the last one: until now)' })
  at: string;

  @ApiProperty({ description: 'Logout requests accepted (logout_requests.created_at)' })
  accepted: number;

  @ApiProperty({ description: 'Logout requests whose steps all recorded themselves (logout_requests.completed_at)' })
  completed: number;

  @ApiProperty({ description: 'Rejected revocation requests (universal_logout_failed; an aggregated event counts as its details.aggregated.count)' })
  rejected: number;

  @ApiProperty({ description: 'Back-channel deliveries that failed for good (oidc_backchannel_logout_failed)' })
  deliveries_failed: number;
}

export class ThroughputView {
  @ApiProperty({ description: 'Start of the window: `to` minus `minutes`' })
  from: string;

  @ApiProperty({ description: 'Now, floored to the bucket: the start of the last, partial bucket' })
  to: string;

  @ApiProperty({ description: 'max(1, ceil(minutes × 60 / 300)): at most about 300 buckets' })
  bucket_seconds: number;

  @ApiProperty({ type: [ThroughputBucket], description: 'Every bucket from `from` to `to`, oldest first, empty ones included' })
  buckets: ThroughputBucket[];
}
