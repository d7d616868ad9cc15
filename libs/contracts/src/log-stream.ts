/** SPEC §5: a log stream posts to a webhook (`http`) or publishes to a Kafka topic (`kafka`). */
export const LOG_STREAM_TYPES = ['http', 'kafka'] as const;
export type LogStreamType = (typeof LOG_STREAM_TYPES)[number];

/** SPEC §5: `suspended` is the service's verdict on a stream that keeps failing. */
export const LOG_STREAM_STATUSES = ['active', 'paused', 'suspended'] as const;
export type LogStreamStatus = (typeof LOG_STREAM_STATUSES)[number];

/** What a caller may set; `active` resumes a paused or suspended stream where it stopped. */
export const SETTABLE_LOG_STREAM_STATUSES = ['active', 'paused'] as const satisfies readonly LogStreamStatus[];

/** SPEC §5 `httpContentFormat`: a batch as one array, one envelope per line, or one request per envelope. */
export const HTTP_CONTENT_FORMATS = ['JSONARRAY', 'JSONLINES', 'JSONOBJECT'] as const;
export type HttpContentFormat = (typeof HTTP_CONTENT_FORMATS)[number];
