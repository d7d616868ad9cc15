import { Module } from '@nestjs/common';
import { SsfSecrets } from '../connections/ssf-secrets';
import { LogoutsModule } from '../logouts/logouts.module';
import { RevocationModule } from '../revocation/revocation.module';
import { AcceptSecurityEvent } from './accept-security-event.usecase';
import { SsfPushController } from './ssf-push.controller';
import { SsfRejectionLog } from './ssf-rejection-log';

/**
 * SPEC §9: Shared Signals (CAEP) ingress. A connection's SSF transmitter pushes Security Event
 * Tokens here; each is verified like a GTR token (RevocationModule's keys, subjects, replay store
 * and limits) and accepted through the same outbox (LogoutsModule).
 */
@Module({
  imports: [LogoutsModule, RevocationModule],
  controllers: [SsfPushController],
  providers: [AcceptSecurityEvent, SsfRejectionLog, SsfSecrets],
  exports: [AcceptSecurityEvent],
})
export class SsfModule {}
