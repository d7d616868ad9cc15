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

export {
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
};
export type { ConnectionStrategy } from './connection.entity';
export type { OidcLogoutSettings } from './client.entity';
export type {
  HttpContentFormat,
  HttpLogStreamSink,
  KafkaLogStreamSink,
  LogStreamError,
  LogStreamFilter,
  LogStreamSink,
  LogStreamStatus,
  LogStreamType,
} from './log-stream.entity';
export type { SigningKeyStatus } from './signing-key.entity';
export type { DeliveryStatus } from './backchannel-delivery.entity';
