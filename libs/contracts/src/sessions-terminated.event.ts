import { z } from 'zod';
import { LOGOUT_REQUEST_INITIATORS } from './initiators';

/**
 * Sessions one logout terminated, with the clients that took part in each. A user with
 * thousands of sessions yields several of these (at most SESSIONS_PER_EVENT sessions each),
 * so no single message or in-memory batch grows with the user.
 */
export const SESSIONS_PER_EVENT = 100;

export const sessionsTerminatedSchema = z.object({
  requestId: z.string().min(1),
  initiator: z.enum(LOGOUT_REQUEST_INITIATORS),
  chunk: z.number().int().min(0),
  /**
   * The logout covered every active session of its users (a Universal Logout, a delete of all of a
   * user's sessions), so a client that does not require `sid` can be sent one `sub`-only token per
   * user (SPEC §4). Absent in events written before it existed: then every session gets its own.
   */
  allSessions: z.boolean().default(false),
  sessions: z
    .array(
      z.object({
        sessionId: z.string().min(1),
        userId: z.string().min(1),
        clientIds: z.array(z.string().min(1)),
      }),
    )
    .max(SESSIONS_PER_EVENT),
});

export type SessionsTerminated = z.infer<typeof sessionsTerminatedSchema>;
