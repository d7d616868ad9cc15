import { ConflictException, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { BackchannelDeliveryEntity } from '@ulo/persistence';
import { ManagementApi } from '../auth/management-api.decorator';
import { findPage } from '../paging/checkpoint-page';
import { findOr404 } from '../rows';
import { ListDeliveriesQuery } from './backchannel-delivery.dto';

const view = (d: BackchannelDeliveryEntity) => ({
  id: d.id,
  status: d.status,
  request_id: d.requestId,
  session_id: d.sessionId,
  user_id: d.userId,
  client_id: d.clientId,
  backchannel_logout_uri: d.url,
  initiator: d.initiator,
  attempts: d.attempts,
  next_attempt_at: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
  last_status_code: d.lastStatusCode,
  last_error: d.lastError,
  created_at: d.createdAt.toISOString(),
  updated_at: d.updatedAt.toISOString(),
});

/** Operators see back-channel deliveries, and replay the parked ones (a fresh token is signed). */
@ApiTags('backchannel-deliveries')
@ManagementApi()
@Controller('api/v2/backchannel-deliveries')
export class BackchannelDeliveriesController {
  constructor(@InjectRepository(BackchannelDeliveryEntity) private readonly deliveries: Repository<BackchannelDeliveryEntity>) {}

  @Get()
  async list(@Query() query: ListDeliveriesQuery) {
    return findPage(this.deliveries, query, {
      name: 'deliveries',
      where: query.status ? { status: query.status } : {},
      view,
    });
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    return view(await this.find(id));
  }

  /** 202: queued again now, with its attempts reset; the dispatcher signs a fresh token for it. */
  @Post(':id/retry')
  @HttpCode(202)
  async retry(@Param('id') id: string) {
    const result = await this.deliveries
      .createQueryBuilder()
      .update()
      .set({ status: 'pending', attempts: 0, nextAttemptAt: () => 'now()', lastError: null })
      .where('id = :id AND status IN (:...replayable)', { id, replayable: ['parked', 'failed'] })
      .execute();
    if (!result.affected) {
      await this.find(id); // 404 when there is no such delivery; else it is not replayable
      throw new ConflictException('only parked or failed deliveries can be retried');
    }
    return view(await this.find(id));
  }

  private find(id: string): Promise<BackchannelDeliveryEntity> {
    return findOr404(this.deliveries, { id }, `No back-channel delivery with id ${id}`);
  }
}
