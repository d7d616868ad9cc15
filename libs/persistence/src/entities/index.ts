import { ConnectionEntity } from './connection.entity';
import { ClientEntity } from './client.entity';
import { UserEntity } from './user.entity';
import { UserIdentityEntity } from './user-identity.entity';
import { SessionEntity } from './session.entity';
import { SessionClientEntity } from './session-client.entity';
import { RefreshTokenEntity } from './refresh-token.entity';
import { LogEventEntity } from './log-event.entity';
import { OutboxMessageEntity } from './outbox-message.entity';
import { LogoutRequestEntity } from './logout-request.entity';
import { SeenJtiEntity } from './seen-jti.entity';
import { LogStreamEntity } from './log-stream.entity';
import { LogStreamQueueItemEntity } from './log-stream-queue-item.entity';
import { LogStreamFanoutEntity } from './log-stream-fanout.entity';
import { SigningKeyEntity } from './signing-key.entity';
import { BackchannelDeliveryEntity } from './backchannel-delivery.entity';

export const entities = [
  ConnectionEntity,
  ClientEntity,
  UserEntity,
  UserIdentityEntity,
  SessionEntity,
  SessionClientEntity,
  RefreshTokenEntity,
  LogEventEntity,
  OutboxMessageEntity,
  LogoutRequestEntity,
  SeenJtiEntity,
  LogStreamEntity,
  LogStreamQueueItemEntity,
  LogStreamFanoutEntity,
  SigningKeyEntity,
  BackchannelDeliveryEntity,
];

export * from './connection.entity';
export * from './client.entity';
export * from './user.entity';
export * from './user-identity.entity';
export * from './session.entity';
export * from './session-client.entity';
export * from './refresh-token.entity';
export * from './log-event.entity';
export * from './outbox-message.entity';
export * from './logout-request.entity';
export * from './seen-jti.entity';
export * from './log-stream.entity';
export * from './log-stream-queue-item.entity';
export * from './log-stream-fanout.entity';
export * from './signing-key.entity';
export * from './backchannel-delivery.entity';
