import { Module } from '@nestjs/common';
import { LogoutsModule } from '../logouts/logouts.module';
import { AcceptLogout } from './accept-logout.usecase';
import { ConnectionDirectory } from './connection-directory';
import { ConnectionRateLimiter } from './connection-rate-limiter';
import { GlobalTokenRevocationController } from './global-token-revocation.controller';
import { IdpKeysService } from './idp-keys.service';
import { RejectionLog } from './rejection-log';
import { SeenJtiRepository } from './seen-jti.repository';
import { SeenJtiSweeper } from './seen-jti.sweeper';
import { SubjectResolverRepository } from './subject-resolver.repository';
import { UnverifiedTrafficLimiter } from './unverified-traffic-limiter';

/**
 * SPEC §2: the public Global Token Revocation endpoint that an identity provider calls. What an
 * identity provider's other requests are checked with too (SPEC §9 Shared Signals) is exported:
 * the connection directory, keys, subjects, replay store and the unverified-traffic limits (one
 * instance, so that junk on either endpoint counts against one overall budget).
 */
@Module({
  imports: [LogoutsModule],
  controllers: [GlobalTokenRevocationController],
  providers: [
    AcceptLogout,
    ConnectionDirectory,
    ConnectionRateLimiter,
    UnverifiedTrafficLimiter,
    RejectionLog,
    IdpKeysService,
    SubjectResolverRepository,
    SeenJtiRepository,
    SeenJtiSweeper,
  ],
  exports: [ConnectionDirectory, UnverifiedTrafficLimiter, IdpKeysService, SubjectResolverRepository, SeenJtiRepository],
})
export class RevocationModule {}
