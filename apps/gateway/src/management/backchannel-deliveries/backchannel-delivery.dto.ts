import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { CheckpointQuery } from '../paging/checkpoint-page';

export const deliveryStatuses = ['pending', 'succeeded', 'failed', 'parked'] as const;

export class ListDeliveriesQuery extends CheckpointQuery {
  @ApiPropertyOptional({ enum: deliveryStatuses })
  @IsOptional()
  @IsIn(deliveryStatuses, { message: `status must be one of: ${deliveryStatuses.join(', ')}` })
  status?: (typeof deliveryStatuses)[number];
}
