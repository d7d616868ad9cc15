import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Envelope, LogoutRequested, Topics } from '@ulo/contracts';
import { BatchContext, BatchResult, rejectUnknownRequests } from '@ulo/messaging';
import { TerminateSessions } from '../terminate-sessions/terminate-sessions.usecase';

@Controller()
export class LogoutRequestedHandler {
  constructor(private readonly terminateSessions: TerminateSessions) {}

  /** A batch of one partition's logout requests, in one transaction; unknown requests are dead-lettered. */
  @EventPattern(Topics.logoutRequested)
  async onLogoutRequested(@Payload() events: Envelope<LogoutRequested>[], @Ctx() ctx: BatchContext): Promise<BatchResult> {
    const outcome = await this.terminateSessions.execute(events.map((e) => e.payload), ctx.heartbeat);
    return rejectUnknownRequests(events, outcome.unknown);
  }
}
