import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Envelope, LogoutRequested, Topics } from '@ulo/contracts';
import { BatchContext, BatchResult, rejectUnknownRequests } from '@ulo/messaging';
import { RevokeRefreshTokens } from '../revoke-refresh-tokens/revoke-refresh-tokens.usecase';

@Controller()
export class LogoutRequestedHandler {
  constructor(private readonly revokeRefreshTokens: RevokeRefreshTokens) {}

  /** A batch of one partition's logout requests, in one transaction; unknown requests are dead-lettered. */
  @EventPattern(Topics.logoutRequested)
  async onLogoutRequested(@Payload() events: Envelope<LogoutRequested>[], @Ctx() ctx: BatchContext): Promise<BatchResult> {
    const outcome = await this.revokeRefreshTokens.execute(events.map((e) => e.payload), ctx.heartbeat);
    return rejectUnknownRequests(events, outcome.unknown);
  }
}
