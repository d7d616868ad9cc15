import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  BackchannelDeliveryEntity,
  ClientEntity,
  ConnectionEntity,
  ConnectionRepository,
  LogStreamEntity,
  RefreshTokenEntity,
  SessionClientEntity,
  SessionEntity,
  UserEntity,
  UserIdentityEntity,
} from '@ulo/persistence';
import { ManagementAuditInterceptor } from './audit/management-audit.interceptor';
import { RecordManagementCall } from './audit/record-management-call.usecase';
import { ManagementTokenGuard } from './auth/management-token.guard';
import { BackchannelDeliveriesController } from './backchannel-deliveries/backchannel-deliveries.controller';
import { BackchannelDeliveriesService } from './backchannel-deliveries/backchannel-deliveries.service';
import { SigningKeysController } from './keys/signing-keys.controller';
import { ClientsController } from './clients/clients.controller';
import { ClientsService } from './clients/clients.service';
import { ConnectionsController } from './connections/connections.controller';
import { ConnectionsService } from './connections/connections.service';
import { SsfStreamController } from './connections/ssf-stream.controller';
import { SsfStreamsService } from './connections/ssf-streams.service';
import { SsfSecrets } from '../connections/ssf-secrets';
import { SsfTransmitterClient } from '../connections/ssf-transmitter.client';
import { RefreshTokensController } from './refresh-tokens/refresh-tokens.controller';
import { RefreshTokensService } from './refresh-tokens/refresh-tokens.service';
import { UserRefreshTokensController } from './refresh-tokens/user-refresh-tokens.controller';
import { SessionsController } from './sessions/sessions.controller';
import { SessionsService } from './sessions/sessions.service';
import { UserSessionsController } from './sessions/user-sessions.controller';
import { UsersController } from './users/users.controller';
import { UsersService } from './users/users.service';
import { LogsController } from './logs/logs.controller';
import { LogsService } from './logs/logs.service';
import { LogStreamsController } from './log-streams/log-streams.controller';
import { LogStreamsService } from './log-streams/log-streams.service';
import { RetentionController } from './retention/retention.controller';
import { LogoutRequestsController } from './logout-requests/logout-requests.controller';
import { LogoutRequestViewsRepository } from './logout-requests/logout-request-views.repository';
import { LogoutRequestsService } from './logout-requests/logout-requests.service';
import { ThroughputController } from './stats/throughput.controller';
import { ThroughputRepository } from './stats/throughput.repository';
import { ThroughputService } from './stats/throughput.service';
import { LogoutsModule } from '../logouts/logouts.module';
import { SigningModule } from '../signing/signing.module';

/**
 * SPEC §6: the Management API under /api/v2, every route behind the management token guard,
 * every write logged (`sapi` / `fapi`).
 */
@Module({
  imports: [
    LogoutsModule,
    SigningModule,
    TypeOrmModule.forFeature([
      ConnectionEntity,
      ClientEntity,
      UserEntity,
      UserIdentityEntity,
      SessionEntity,
      SessionClientEntity,
      RefreshTokenEntity,
      LogStreamEntity,
      BackchannelDeliveryEntity,
    ]),
  ],
  controllers: [
    ConnectionsController,
    SsfStreamController,
    ClientsController,
    UsersController,
    SessionsController,
    UserSessionsController,
    RefreshTokensController,
    UserRefreshTokensController,
    LogsController,
    LogStreamsController,
    SigningKeysController,
    BackchannelDeliveriesController,
    LogoutRequestsController,
    ThroughputController,
    RetentionController,
  ],
  providers: [
    ManagementTokenGuard,
    ManagementAuditInterceptor,
    RecordManagementCall,
    ConnectionsService,
    ConnectionRepository,
    SsfStreamsService,
    SsfSecrets,
    SsfTransmitterClient,
    ClientsService,
    UsersService,
    SessionsService,
    RefreshTokensService,
    LogsService,
    LogStreamsService,
    BackchannelDeliveriesService,
    LogoutRequestsService,
    LogoutRequestViewsRepository,
    ThroughputService,
    ThroughputRepository,
  ],
})
export class ManagementModule {}
