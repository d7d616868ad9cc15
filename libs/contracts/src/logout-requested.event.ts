import { z } from 'zod';
import { dateTimeString } from './date-time';
import { LOGOUT_REQUEST_INITIATORS } from './initiators';

/** What to revoke: everything of the users, one item, or nothing of that kind. */
const scopeSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('all') }),
  z.object({ mode: z.literal('one'), id: z.string().min(1) }),
  z.object({ mode: z.literal('none') }),
]);

export const logoutRequestedSchema = z.object({
  requestId: z.string().min(1),
  initiator: z.enum(LOGOUT_REQUEST_INITIATORS),
  userIds: z.array(z.string().min(1)).min(1),
  connection: z.object({ id: z.string(), name: z.string() }).nullable(),
  sessions: scopeSchema,
  refreshTokens: scopeSchema,
  acceptedAt: dateTimeString(),
});

export type LogoutRequested = z.infer<typeof logoutRequestedSchema>;
export type RevocationScope = z.infer<typeof scopeSchema>;
