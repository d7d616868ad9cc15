import { ConflictException, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { BackchannelDeliveryEntity, BackchannelDeliveryRepository } from '@ulo/persistence';
import { findPage } from '../paging/checkpoint-page';
import { findOr404 } from '../rows';
import { ListDeliveriesQuery } from './backchannel-delivery.dto';

const view = (d: BackchannelDeliveryEntity) => ({
  id: d.id,
  status: d.status,
  request_id: d.requestId,
  /** `sid`: a token for one session; `sub`: one token for all of the user's sessions at the client (SPEC §4). */
  kind: d.sessionId === null ? 'sub' : 'sid',
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

/** SPEC §6 `backchannel-deliveries`: operators see deliveries and replay the parked ones. */
@Injectable()
export class BackchannelDeliveriesService {
  constructor(
    @InjectRepository(BackchannelDeliveryEntity) private readonly entities: Repository<BackchannelDeliveryEntity>,
    private readonly deliveries: BackchannelDeliveryRepository,
  ) {}

  list(query: ListDeliveriesQuery) {
    return findPage(this.entities, query, { name: 'deliveries', where: query.status ? { status: query.status } : {}, view });
  }

  async get(id: string) {
    return view(await this.find(id));
  }

  /** Due again now, with its attempts reset; the dispatcher signs a fresh token for it (SPEC §4). */
  async retry(id: string) {
    if (!(await this.deliveries.replay(id))) {
      await this.find(id); // 404 when there is no such delivery; else it is not replayable
      throw new ConflictException('only parked or failed deliveries can be retried');
    }
    return view(await this.find(id));
  }

  private find(id: string): Promise<BackchannelDeliveryEntity> {
    return findOr404(this.entities, { id }, `No back-channel delivery with id ${id}`);
  }
}
