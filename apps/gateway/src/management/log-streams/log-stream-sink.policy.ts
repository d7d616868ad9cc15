import { HTTP_CONTENT_FORMATS, HttpContentFormat, LogCategory, LogStreamType, TopicName, Topics, logCategories, prefixed } from '@ulo/contracts';
import type { HttpLogStreamSink, KafkaLogStreamSink, LogStreamFilter } from '@ulo/persistence';
import { UnsafeUrlException, assertSafeUrlSyntax } from '@ulo/security';

export class InvalidLogStreamException extends Error {}

const HTTP_MEMBERS = ['httpEndpoint', 'httpAuthorization', 'httpContentType', 'httpContentFormat', 'httpCustomHeaders'];
// RFC 9110 field-name token; a media type as type/subtype with optional parameters.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;\s*[^\s;=]+=[^;]+)*$/;
const LINE_BREAK = /[\r\n\0]/;
/** Set by the log-streamer itself, or by the HTTP client: a custom header must not replace them. */
const RESERVED_HEADERS = new Set([
  'authorization',
  'content-type',
  'content-length',
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
]);
// Kafka's own limits on topic names.
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const MAX_HEADERS = 20;
/** What GET shows in place of a custom header's value: never a value to store. */
export const REDACTED = '[redacted]';
const MAX_FILTERS = 20;

const fail = (message: string): never => {
  throw new InvalidLogStreamException(message);
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function headerText(value: unknown, what: string, max = 4096): string {
  if (typeof value !== 'string' || value.length === 0) return fail(`${what} must be a non-empty string`);
  if (value.length > max) return fail(`${what} must be at most ${max} characters`);
  if (LINE_BREAK.test(value)) return fail(`${what} must not contain line breaks`);
  return value;
}

/**
 * SPEC §5 `type: "http"` sink, with the SPEC §4 URL rules at registration (the log-streamer's
 * HTTP client applies them again, with the resolved address, at each delivery).
 */
export function validateHttpSink(sink: unknown, allowPrivateNetwork: boolean): HttpLogStreamSink {
  if (!isObject(sink)) return fail('sink must be an object');
  const unknown = Object.keys(sink).find((k) => !HTTP_MEMBERS.includes(k));
  if (unknown) fail(`sink.${unknown} is not a member of an http sink (expected: ${HTTP_MEMBERS.join(', ')})`);

  if (typeof sink.httpEndpoint !== 'string') fail('sink.httpEndpoint is required: the URL events are POSTed to');
  try {
    assertSafeUrlSyntax(sink.httpEndpoint as string, allowPrivateNetwork);
  } catch (err) {
    if (err instanceof UnsafeUrlException) fail(`sink.httpEndpoint ${err.message}`);
    throw err;
  }

  const result: HttpLogStreamSink = {
    httpEndpoint: sink.httpEndpoint as string,
    httpContentType: 'application/json',
    httpContentFormat: 'JSONARRAY',
    httpCustomHeaders: [],
  };
  if (sink.httpAuthorization !== undefined && sink.httpAuthorization !== null) {
    result.httpAuthorization = headerText(sink.httpAuthorization, 'sink.httpAuthorization');
  }
  if (sink.httpContentType !== undefined) {
    const type = headerText(sink.httpContentType, 'sink.httpContentType', 255);
    if (!MEDIA_TYPE.test(type)) fail('sink.httpContentType must be a media type such as application/json');
    result.httpContentType = type;
  }
  if (sink.httpContentFormat !== undefined) {
    if (!HTTP_CONTENT_FORMATS.includes(sink.httpContentFormat as HttpContentFormat)) {
      fail(`sink.httpContentFormat must be one of: ${HTTP_CONTENT_FORMATS.join(', ')}`);
    }
    result.httpContentFormat = sink.httpContentFormat as HttpContentFormat;
  }
  if (sink.httpCustomHeaders !== undefined) {
    const headers = sink.httpCustomHeaders;
    if (!Array.isArray(headers)) return fail('sink.httpCustomHeaders must be an array of {header, value}');
    if (headers.length > MAX_HEADERS) fail(`sink.httpCustomHeaders may hold at most ${MAX_HEADERS} headers`);
    const seen = new Set<string>();
    result.httpCustomHeaders = headers.map((h: unknown, i) => {
      const what = `sink.httpCustomHeaders[${i}]`;
      if (!isObject(h) || Object.keys(h).some((k) => k !== 'header' && k !== 'value')) {
        return fail(`${what} must be an object {header, value}`);
      }
      const header = h.header;
      if (typeof header !== 'string' || !HEADER_NAME.test(header)) return fail(`${what}.header must be an HTTP header name`);
      const name = header.toLowerCase();
      if (RESERVED_HEADERS.has(name)) fail(`${what}.header "${header}" is set by the service and cannot be customised`);
      if (seen.has(name)) fail(`${what}.header "${header}" appears more than once`);
      seen.add(name);
      const value = headerText(h.value, `${what}.value`);
      // A GET-edit-PATCH round trip would otherwise replace the real value with the placeholder.
      if (value === REDACTED) fail(`${what}.value is the "${REDACTED}" placeholder GET shows: give the header's real value`);
      return { header, value };
    });
  }
  return result;
}

export interface KafkaSinkRules {
  /** KAFKA_TOPIC_PREFIX: the service's own topics, which a stream never publishes to. */
  topicPrefix: string;
  /** LOG_STREAM_KAFKA_TOPIC_PREFIX: every stream topic starts with it. */
  streamTopicPrefix: string;
}

/**
 * SPEC §5 `type: "kafka"`: a legal topic name under this deployment's stream prefix, which is not
 * one of the service's own topics (nor, thanks to the prefix, another deployment's).
 */
export function validateKafkaSink(sink: unknown, rules: KafkaSinkRules): KafkaLogStreamSink {
  if (!isObject(sink)) return fail('sink must be an object');
  const unknown = Object.keys(sink).find((k) => k !== 'topic');
  if (unknown) fail(`sink.${unknown} is not a member of a kafka sink (expected: topic)`);
  const topic = sink.topic;
  if (typeof topic !== 'string') return fail('sink.topic is required: the Kafka topic events are published to');
  if (!TOPIC.test(topic) || topic === '.' || topic === '..') {
    fail('sink.topic must be 1 to 249 letters, digits, ".", "_" or "-"');
  }
  if (topic.startsWith('__')) fail('sink.topic must not start with "__" (Kafka internal topics)');
  const own = Object.values(Topics).map((t: TopicName) => prefixed(rules.topicPrefix, t));
  if (own.includes(topic)) fail(`sink.topic "${topic}" is one of the service's own topics`);
  if (!topic.startsWith(rules.streamTopicPrefix) || topic.length === rules.streamTopicPrefix.length) {
    fail(`sink.topic must start with "${rules.streamTopicPrefix}" (LOG_STREAM_KAFKA_TOPIC_PREFIX) and name a topic after it`);
  }
  return { topic };
}

export function validateSink(type: LogStreamType, sink: unknown, opts: { allowPrivateNetwork: boolean } & KafkaSinkRules) {
  return type === 'http' ? validateHttpSink(sink, opts.allowPrivateNetwork) : validateKafkaSink(sink, opts);
}

/** SPEC §5 filters: `[{type: "category", name}]` with the categories of the event table. */
export function validateFilters(filters: unknown): LogStreamFilter[] {
  if (!Array.isArray(filters)) return fail('filters must be an array of {type: "category", name}');
  if (filters.length > MAX_FILTERS) fail(`filters may hold at most ${MAX_FILTERS} entries`);
  const names = new Set<LogCategory>();
  filters.forEach((f: unknown, i) => {
    if (!isObject(f) || Object.keys(f).some((k) => k !== 'type' && k !== 'name')) {
      fail(`filters[${i}] must be an object {type: "category", name}`);
    }
    const { type, name } = f as Record<string, unknown>;
    if (type !== 'category') fail(`filters[${i}].type must be "category"`);
    if (!logCategories.includes(name as LogCategory)) {
      fail(`filters[${i}].name must be one of: ${logCategories.join(', ')}`);
    }
    names.add(name as LogCategory);
  });
  return [...names].map((name) => ({ type: 'category', name }));
}
