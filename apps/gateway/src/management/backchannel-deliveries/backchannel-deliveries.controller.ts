import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ManagementApi } from '../auth/management-api.decorator';
import { ListDeliveriesQuery } from './backchannel-delivery.dto';
import { BackchannelDeliveriesService } from './backchannel-deliveries.service';

/** Operators see back-channel deliveries, and replay the parked ones (a fresh token is signed). */
@ApiTags('backchannel-deliveries')
@ManagementApi()
@Controller('api/v2/backchannel-deliveries')
export class BackchannelDeliveriesController {
  constructor(private readonly deliveries: BackchannelDeliveriesService) {}

  @Get()
  list(@Query() query: ListDeliveriesQuery) {
    return this.deliveries.list(query);
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.deliveries.get(id);
  }

  /** 202: queued again now, with its attempts reset. */
  @Post(':id/retry')
  @HttpCode(202)
  retry(@Param('id') id: string) {
    return this.deliveries.retry(id);
  }
}
