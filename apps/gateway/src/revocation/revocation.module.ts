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

/** SPEC §2: the public Global Token Revocation endpoint that an identity provider calls. */
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
})
export class RevocationModule {}
