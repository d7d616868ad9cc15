import { ConflictException, Controller, Get, HttpCode, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { InjectRepository } from '@nestjs/typeorm';
import { MoreThan, Repository } from 'typeorm';
import { BackchannelDeliveryEntity } from '@ulo/persistence';
import { ManagementApi } from '../auth/management-api.decorator';
import { DEFAULT_TAKE, toPage } from '../paging/checkpoint-page';
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
    const take = query.take ?? DEFAULT_TAKE;
    const rows = await this.deliveries.find({
      where: { ...(query.status ? { status: query.status } : {}), ...(query.from ? { id: MoreThan(query.from) } : {}) },
      order: { id: 'ASC' },
      take: take + 1,
    });
    return toPage('deliveries', rows, take, (r) => r.id, view);
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    return view(await this.find(id));
  }

  /** 202: queued again now, with its attempts reset; the dispatcher signs a fresh token for it. */
  @Post(':id/retry')
  @HttpCode(202)
  async retry(@Param('id') id: string) {
    await this.find(id);
    const result = await this.deliveries
      .createQueryBuilder()
      .update()
      .set({ status: 'pending', attempts: 0, nextAttemptAt: () => 'now()', lastError: null })
      .where('id = :id AND status IN (:...replayable)', { id, replayable: ['parked', 'failed'] })
      .execute();
    if (!result.affected) throw new ConflictException('only parked or failed deliveries can be retried');
    return view(await this.find(id));
  }

  private async find(id: string): Promise<BackchannelDeliveryEntity> {
    const found = await this.deliveries.findOneBy({ id });
    if (!found) throw new NotFoundException(`No back-channel delivery with id ${id}`);
    return found;
  }
}
