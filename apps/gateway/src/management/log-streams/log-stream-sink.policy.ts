import { LogStreamType, TopicName, Topics, prefixed } from '@ulo/contracts';
import type { HttpLogStreamSink, KafkaLogStreamSink, LogStreamFilter } from '@ulo/persistence';
import { UnsafeUrlException, assertSafeUrlSyntax } from '@ulo/security';
import { InvalidInputException, validInput, validInputs } from '../../validation/valid-input';
import { CustomHeaderDto, HttpSinkDto, KafkaSinkDto, LogStreamFilterDto, MAX_FILTERS } from './log-stream-sink.dto';

export class InvalidLogStreamException extends Error {}

/** Turns a DTO's refusal into the policy's. */
function checked<T>(validate: () => T): T {
  try {
    return validate();
  } catch (err) {
    if (err instanceof InvalidInputException) throw new InvalidLogStreamException(err.message);
    throw err;
  }
}

const notMember = (kind: string, expected: string) => (path: string, members: string[]) =>
  `${path}.${members[0]} is not a member of ${kind} (expected: ${expected})`;

/**
 * SPEC §5 `type: "http"` sink: its shape by HttpSinkDto, then the SPEC §4 URL rules at
 * registration (the log-streamer's HTTP client applies them again, with the resolved address, at
 * each delivery). Returns the sink with its defaults.
 */
export function validateHttpSink(sink: unknown, allowPrivateNetwork: boolean): HttpLogStreamSink {
  const dto = checked(() =>
    validInput(HttpSinkDto, sink, 'sink', {
      unknownMessage: notMember('an http sink', 'httpEndpoint, httpAuthorization, httpContentType, httpContentFormat, httpCustomHeaders'),
    }),
  );
  const headers = checked(() =>
    validInputs(CustomHeaderDto, dto.httpCustomHeaders ?? [], 'sink.httpCustomHeaders', {
      notObjectMessage: (path) => `${path} must be an object {header, value}`,
      unknownMessage: (path) => `${path} must be an object {header, value}`,
    }),
  );
  try {
    assertSafeUrlSyntax(dto.httpEndpoint, allowPrivateNetwork);
  } catch (err) {
    if (err instanceof UnsafeUrlException) throw new InvalidLogStreamException(`sink.httpEndpoint ${err.message}`);
    throw err;
  }
  return {
    httpEndpoint: dto.httpEndpoint,
    ...(typeof dto.httpAuthorization === 'string' ? { httpAuthorization: dto.httpAuthorization } : {}),
    httpContentType: dto.httpContentType ?? 'application/json',
    httpContentFormat: dto.httpContentFormat ?? 'JSONARRAY',
    httpCustomHeaders: headers.map(({ header, value }) => ({ header, value })),
  };
}

export interface KafkaSinkRules {
  /** KAFKA_TOPIC_PREFIX: the service's own topics, which a stream never publishes to. */
  topicPrefix: string;
  /** LOG_STREAM_KAFKA_TOPIC_PREFIX: every stream topic starts with it. */
  streamTopicPrefix: string;
}

/**
 * SPEC §5 `type: "kafka"`: a legal topic name (KafkaSinkDto) under this deployment's stream
 * prefix, which is not one of the service's own topics (nor, thanks to the prefix, another
 * deployment's).
 */
export function validateKafkaSink(sink: unknown, rules: KafkaSinkRules): KafkaLogStreamSink {
  const { topic } = checked(() => validInput(KafkaSinkDto, sink, 'sink', { unknownMessage: notMember('a kafka sink', 'topic') }));
  const own = Object.values(Topics).map((t: TopicName) => prefixed(rules.topicPrefix, t));
  if (own.includes(topic)) throw new InvalidLogStreamException(`sink.topic "${topic}" is one of the service's own topics`);
  if (!topic.startsWith(rules.streamTopicPrefix) || topic.length === rules.streamTopicPrefix.length) {
    throw new InvalidLogStreamException(
      `sink.topic must start with "${rules.streamTopicPrefix}" (LOG_STREAM_KAFKA_TOPIC_PREFIX) and name a topic after it`,
    );
  }
  return { topic };
}

export function validateSink(type: LogStreamType, sink: unknown, opts: { allowPrivateNetwork: boolean } & KafkaSinkRules) {
  return type === 'http' ? validateHttpSink(sink, opts.allowPrivateNetwork) : validateKafkaSink(sink, opts);
}

/** SPEC §5 filters: `[{type: "category", name}]` with the categories of the event table, each once. */
export function validateFilters(filters: unknown): LogStreamFilter[] {
  if (!Array.isArray(filters)) throw new InvalidLogStreamException('filters must be an array of {type: "category", name}');
  if (filters.length > MAX_FILTERS) throw new InvalidLogStreamException(`filters may hold at most ${MAX_FILTERS} entries`);
  const shape = (path: string) => `${path} must be an object {type: "category", name}`;
  const valid = checked(() => validInputs(LogStreamFilterDto, filters, 'filters', { notObjectMessage: shape, unknownMessage: shape }));
  return [...new Set(valid.map((f) => f.name))].map((name) => ({ type: 'category', name }));
}
