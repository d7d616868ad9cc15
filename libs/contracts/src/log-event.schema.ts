import { z } from 'zod';
import { dateTimeString } from './date-time';
import { LogEventType, logEventTypes } from './log-event';

const types = Object.keys(logEventTypes) as [LogEventType, ...LogEventType[]];
const nullableText = z.string().nullable();

/** A ULID: 26 Crockford base-32 characters, the first ten the time in milliseconds. */
export const LOG_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * SPEC §5: the log event as published on `<prefix>log-events`, checked again by its consumers
 * (the producers build it with `buildLogEvent`). Unknown members are kept, not refused.
 */
export const logEventSchema = z
  .object({
    log_id: z.string().regex(LOG_ID_PATTERN, 'log_id must be a ULID'),
    date: dateTimeString({ offset: true }),
    type: z.enum(types),
    description: z.string(),
    connection: nullableText,
    connection_id: nullableText,
    client_id: nullableText,
    client_name: nullableText,
    user_id: nullableText,
    identity_user_id: nullableText,
    ip: nullableText,
    user_agent: nullableText,
    hostname: nullableText,
    details: z.record(z.unknown()),
  })
  .passthrough();

/** The categories of SPEC §5, the names a log stream's filters may use. */
export const logCategories = [...new Set(Object.values(logEventTypes))];
