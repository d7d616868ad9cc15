import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Envelope, LogoutRequested, Topics } from '@ulo/contracts';
import { EventContext } from '@ulo/messaging';
import { TerminateSessions } from '../terminate-sessions/terminate-sessions.usecase';

@Controller()
export class LogoutRequestedHandler {
  constructor(private readonly terminateSessions: TerminateSessions) {}

  @EventPattern(Topics.logoutRequested)
  async onLogoutRequested(@Payload() event: Envelope<LogoutRequested>, @Ctx() ctx: EventContext): Promise<void> {
    await this.terminateSessions.execute(event.payload, ctx.heartbeat);
  }
}
