import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Envelope, SessionsTerminated, Topics } from '@ulo/contracts';
import { PlanDeliveries } from '../plan-deliveries/plan-deliveries.usecase';

@Controller()
export class SessionsTerminatedHandler {
  constructor(private readonly planDeliveries: PlanDeliveries) {}

  /** Only plans (one bulk insert per batch); delivery runs off the partition, in the scheduler. */
  @EventPattern(Topics.sessionsTerminated)
  async onSessionsTerminated(@Payload() events: Envelope<SessionsTerminated>[]): Promise<void> {
    await this.planDeliveries.execute(events.map((e) => e.payload));
  }
}
