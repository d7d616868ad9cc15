import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ManagementApi } from '../auth/management-api.decorator';
import { ThroughputQuery, ThroughputView } from './throughput.dto';
import { ThroughputService } from './throughput.service';

/** What the pipeline did in the last minutes, bucket by bucket, for the operator console. */
@ApiTags('stats')
@ManagementApi()
@Controller('api/v2/stats')
export class ThroughputController {
  constructor(private readonly stats: ThroughputService) {}

  @Get('throughput')
  @ApiOperation({
    summary: 'Logouts accepted and completed, revocation requests rejected, deliveries failed, per bucket',
    description:
      'Buckets of max(1, ceil(minutes × 60 / 300)) seconds on the epoch grid, from `to` − `minutes` to `to` (now, floored ' +
      'to the bucket), oldest first, empty ones included; the last is the current one, until now. `completed` counts ' +
      'requests by completed_at, through the index of completed requests: no bound on when they were accepted.',
  })
  @ApiOkResponse({ type: ThroughputView })
  throughput(@Query() query: ThroughputQuery): Promise<ThroughputView> {
    return this.stats.throughput(query.minutes);
  }
}
