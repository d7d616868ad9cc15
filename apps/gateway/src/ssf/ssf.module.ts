import { Module } from '@nestjs/common';
import { ConnectionRepository } from '@ulo/persistence';
import { SsfSecrets } from '../connections/ssf-secrets';
import { SsfTransmitterClient } from '../connections/ssf-transmitter.client';
import { LogoutsModule } from '../logouts/logouts.module';
import { RevocationModule } from '../revocation/revocation.module';
import { AcceptSecurityEvent } from './accept-security-event.usecase';
import { SsfPollScheduler } from './ssf-poll.scheduler';
import { SsfPushController } from './ssf-push.controller';
import { SsfRejectionLog } from './ssf-rejection-log';

/**
 * SPEC §9: Shared Signals (CAEP) ingress. A connection's SSF transmitter pushes Security Event
 * Tokens here; each is verified like a GTR token (RevocationModule's keys, subjects, replay store
 * and limits) and accepted through the same outbox (LogoutsModule); or this service polls for
 * them (RFC 8936, SsfPollScheduler) and they take the same path from the signature on.
 */
@Module({
  imports: [LogoutsModule, RevocationModule],
  controllers: [SsfPushController],
  providers: [AcceptSecurityEvent, SsfRejectionLog, SsfSecrets, SsfPollScheduler, SsfTransmitterClient, ConnectionRepository],
  exports: [AcceptSecurityEvent],
})
export class SsfModule {}
