import { Module } from '@nestjs/common';
import { GlobalTokenRevocationController } from '../handlers/global-token-revocation.controller';
import { AcceptLogout } from './accept-logout.usecase';
import { ConnectionRateLimiter } from './connection-rate-limiter';
import { IdpKeysService } from './idp-keys.service';
import { SeenJtiSweeper } from './seen-jti.sweeper';
import { StuckLogoutSweeper } from './stuck-logout.sweeper';
import { LogoutRequestRepository } from '@ulo/persistence';
import { SubjectResolverRepository } from './subject-resolver.repository';

@Module({
  controllers: [GlobalTokenRevocationController],
  providers: [
    AcceptLogout,
    ConnectionRateLimiter,
    IdpKeysService,
    SubjectResolverRepository,
    SeenJtiSweeper,
    StuckLogoutSweeper,
    LogoutRequestRepository,
  ],
})
export class RevocationModule {}
