import { z } from 'zod';
import { EnvelopedTopic } from './topics';
import { logoutRequestedSchema } from './logout-requested.event';
import { sessionsTerminatedSchema } from './sessions-terminated.event';

/** Runtime schemas for both ends: the producer validates before sending, the consumer before handling. */
export const payloadSchemas: Readonly<Record<EnvelopedTopic, z.ZodTypeAny>> = {
  'logout-requested.v1': logoutRequestedSchema,
  'sessions-terminated.v1': sessionsTerminatedSchema,
};

/** The payload schema of a topic named at run time; undefined for any other name (`constructor` included). */
export function payloadSchemaOf(topic: string): z.ZodTypeAny | undefined {
  return Object.hasOwn(payloadSchemas, topic) ? payloadSchemas[topic as EnvelopedTopic] : undefined;
}
