import { z } from 'zod';
import { dateTimeString } from './date-time';

/** STYLE §3: one envelope on every message of an enveloped topic. */
export const envelopeSchema = z.object({
  eventId: z.string().min(1),
  type: z.string().min(1),
  version: z.number().int().positive(),
  occurredAt: dateTimeString(),
  /** The logout request id, carried through every hop and into every log line. */
  correlationId: z.string().min(1),
  payload: z.unknown(),
});

export interface Envelope<T> {
  eventId: string;
  type: string;
  version: number;
  occurredAt: string;
  correlationId: string;
  payload: T;
}
