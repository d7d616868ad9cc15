import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Envelope, LogoutRequested, Topics } from '@ulo/contracts';
import { EventContext } from '@ulo/messaging';
import { RevokeRefreshTokens } from '../revoke-refresh-tokens/revoke-refresh-tokens.usecase';

@Controller()
export class LogoutRequestedHandler {
  constructor(private readonly revokeRefreshTokens: RevokeRefreshTokens) {}

  @EventPattern(Topics.logoutRequested)
  async onLogoutRequested(@Payload() event: Envelope<LogoutRequested>, @Ctx() ctx: EventContext): Promise<void> {
    await this.revokeRefreshTokens.execute(event.payload, ctx.heartbeat);
  }
}
