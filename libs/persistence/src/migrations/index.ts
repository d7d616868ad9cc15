import { InitialSchema1764086400000 } from './1764086400000-initial-schema';
import { LogStreams1764172800000 } from './1764172800000-log-streams';
import { Backchannel1764259200000 } from './1764259200000-backchannel';
import { OutboxAutovacuum1764345600000 } from './1764345600000-outbox-autovacuum';
import { DeliveryClaimIndex1764432000000 } from './1764432000000-delivery-claim-index';
import { DeliveryClaimPlan1764518400000 } from './1764518400000-delivery-claim-plan';
import { OutboxWithoutPublishedAt1764604800000 } from './1764604800000-outbox-without-published-at';
import { LogoutRequestReannouncement1764691200000 } from './1764691200000-logout-request-reannouncement';
import { IdentitiesByConnectionId1764777600000 } from './1764777600000-identities-by-connection-id';
import { LogStreamQueueWithoutForeignKey1764864000000 } from './1764864000000-log-stream-queue-without-foreign-key';
import { LogEventsPartitionedByDay1764950400000 } from './1764950400000-log-events-partitioned-by-day';
import { RetentionIndexes1765036800000 } from './1765036800000-retention-indexes';
import { BackchannelKindsAndAlgorithms1765123200000 } from './1765123200000-backchannel-kinds-and-algorithms';
import { LogoutRequestTimeline1765209600000 } from './1765209600000-logout-request-timeline';
import { LogStreamQueueHead1765296000000 } from './1765296000000-log-stream-queue-head';

/** In order. A landed migration is never edited; a change is a new file. */
export const migrations = [
  InitialSchema1764086400000,
  LogStreams1764172800000,
  Backchannel1764259200000,
  OutboxAutovacuum1764345600000,
  DeliveryClaimIndex1764432000000,
  DeliveryClaimPlan1764518400000,
  OutboxWithoutPublishedAt1764604800000,
  LogoutRequestReannouncement1764691200000,
  IdentitiesByConnectionId1764777600000,
  LogStreamQueueWithoutForeignKey1764864000000,
  LogEventsPartitionedByDay1764950400000,
  RetentionIndexes1765036800000,
  BackchannelKindsAndAlgorithms1765123200000,
  LogoutRequestTimeline1765209600000,
  LogStreamQueueHead1765296000000,
];
