import { Module } from '@nestjs/common';
import { AcceptedLogouts } from './accepted-logouts';
import { RequestRevocation } from './request-revocation.usecase';
import { StuckLogoutSweeper } from './stuck-logout.sweeper';

/**
 * Accepting a logout, whoever asks (the revocation endpoint, the Management API), and seeing that
 * each accepted one completes (SPEC §8).
 */
@Module({
  providers: [AcceptedLogouts, RequestRevocation, StuckLogoutSweeper],
  exports: [AcceptedLogouts, RequestRevocation],
})
export class LogoutsModule {}
