import { z } from 'zod';

export const deadLetterSchema = z.object({
  sourceTopic: z.string(),
  partition: z.number().int(),
  offset: z.string(),
  consumerGroup: z.string(),
  error: z.string(),
  /** The original value, as text, so nothing is lost even when it was not JSON. */
  value: z.string().nullable(),
  key: z.string().nullable(),
});

export type DeadLetter = z.infer<typeof deadLetterSchema>;
