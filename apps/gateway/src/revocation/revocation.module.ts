import { Module } from '@nestjs/common';
import { GlobalTokenRevocationController } from '../handlers/global-token-revocation.controller';
import { AcceptLogout } from './accept-logout.usecase';
import { ConnectionDirectory } from './connection-directory';
import { ConnectionRateLimiter } from './connection-rate-limiter';
import { IdpKeysService } from './idp-keys.service';
import { RejectionLog } from './rejection-log';
import { SeenJtiSweeper } from './seen-jti.sweeper';
import { StuckLogoutSweeper } from './stuck-logout.sweeper';
import { LogoutRequestRepository } from '@ulo/persistence';
import { SubjectResolverRepository } from './subject-resolver.repository';
import { UnverifiedTrafficLimiter } from './unverified-traffic-limiter';

@Module({
  controllers: [GlobalTokenRevocationController],
  providers: [
    AcceptLogout,
    ConnectionDirectory,
    ConnectionRateLimiter,
    UnverifiedTrafficLimiter,
    RejectionLog,
    IdpKeysService,
    SubjectResolverRepository,
    SeenJtiSweeper,
    StuckLogoutSweeper,
    LogoutRequestRepository,
  ],
})
export class RevocationModule {}
