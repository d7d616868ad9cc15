import { z } from 'zod';
import { EnvelopedTopic } from './topics';
import { logoutRequestedSchema } from './logout-requested.event';
import { sessionsTerminatedSchema } from './sessions-terminated.event';

/** Runtime schemas for both ends: the producer validates before sending, the consumer before handling. */
export const payloadSchemas: Record<EnvelopedTopic, z.ZodTypeAny> = {
  'logout-requested.v1': logoutRequestedSchema,
  'sessions-terminated.v1': sessionsTerminatedSchema,
};
