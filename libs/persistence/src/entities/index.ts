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
};
export type { ConnectionStrategy } from './connection.entity';
export type { OidcLogoutSettings } from './client.entity';
