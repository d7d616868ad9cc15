import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { MoreThan, Repository } from 'typeorm';
import { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import type { LogStreamStatus, LogStreamType } from '@ulo/contracts';
import {
  HttpCustomHeader,
  HttpLogStreamSink,
  KafkaLogStreamSink,
  LogStreamEntity,
  LogStreamError,
  LogStreamFilter,
  LogStreamRepository,
  LogStreamSink,
} from '@ulo/persistence';
import { SealedFor, encryptSecretAsync } from '@ulo/security';
import { newId } from '../ids';
import { CheckpointQuery, DEFAULT_TAKE, toPage } from '../paging/checkpoint-page';
import { findOr404 } from '../rows';
import { CreateLogStreamDto, UpdateLogStreamDto } from './log-stream.dto';
import { REDACTED } from './log-stream-sink.dto';
import { InvalidLogStreamException, validateFilters, validateSink } from './log-stream-sink.policy';

export interface LogStreamView {
  id: string;
  name: string;
  type: LogStreamType;
  status: LogStreamStatus;
  /**
   * Without `httpAuthorization`, and custom headers by name only (value "[redacted]"): a secret is
   * never returned (SPEC §6).
   */
  sink: Record<string, unknown>;
  filters: LogStreamFilter[];
  created_at: Date;
  updated_at: Date;
  health: {
    /** Events queued for the stream and not delivered yet. */
    lag: number;
    last_delivered_log_id: string | null;
    last_success_at: Date | null;
    delivered: number;
    consecutive_failures: number;
    next_attempt_at: Date | null;
    suspended_at: Date | null;
    /** The last 10 failed deliveries, newest first. */
    last_errors: LogStreamError[];
  };
}

@Injectable()
export class LogStreamsService {
  constructor(
    @InjectRepository(LogStreamEntity) private readonly streams: Repository<LogStreamEntity>,
    private readonly queues: LogStreamRepository,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async create(dto: CreateLogStreamDto): Promise<LogStreamView> {
    // The id first: each sealed value is bound to its stream.
    const id = newId('lst');
    const sink = await this.sealed(id, this.validSink(dto.type, dto.sink));
    const filters = this.validFilters(dto.filters ?? []);
    await this.streams.insert({
      id,
      name: dto.name,
      type: dto.type,
      status: dto.status ?? 'active',
      sink,
      filters,
      categories: filters.map((f) => f.name),
    });
    return this.get(id);
  }

  async list(query: CheckpointQuery) {
    const take = query.take ?? DEFAULT_TAKE;
    const rows = await this.streams.find({
      where: query.from ? { id: MoreThan(query.from) } : {},
      order: { id: 'ASC' },
      take: take + 1,
    });
    const lags = await this.queues.lagOf(rows.slice(0, take).map((r) => r.id));
    return toPage(
      'log_streams',
      rows,
      take,
      (r) => r.id,
      (r) => this.view(r, lags.get(r.id) ?? 0),
    );
  }

  async get(id: string): Promise<LogStreamView> {
    const stream = await this.find(id);
    return this.view(stream, (await this.queues.lagOf([id])).get(id) ?? 0);
  }

  /**
   * Only the columns the caller changes are written: the log-streamer updates the delivery state
   * of the same row concurrently.
   */
  async update(id: string, dto: UpdateLogStreamDto): Promise<LogStreamView> {
    const existing = await this.find(id);
    const patch: QueryDeepPartialEntity<LogStreamEntity> = {};
    if (dto.name !== undefined) patch.name = dto.name;
    if (dto.sink !== undefined) patch.sink = await this.patchedSink(existing, dto.sink);
    if (dto.filters !== undefined) {
      const filters = this.validFilters(dto.filters);
      patch.filters = filters;
      patch.categories = filters.map((f) => f.name);
    }
    if (dto.status === 'paused') patch.status = 'paused';
    if (dto.status === 'active' && existing.status !== 'active') {
      // Resumes from the stream's queue, at once, with a fresh failure count.
      patch.status = 'active';
      patch.consecutiveFailures = 0;
      patch.nextAttemptAt = () => 'now()';
      patch.suspendedAt = null;
    }
    if (Object.keys(patch).length > 0) await this.streams.update({ id }, patch);
    return this.get(id);
  }

  /** The stream's queue goes with it. */
  async remove(id: string): Promise<void> {
    if (!(await this.queues.remove(id))) throw new NotFoundException(`No log stream with id ${id}`);
  }

  private view(s: LogStreamEntity, lag: number): LogStreamView {
    return {
      id: s.id,
      name: s.name,
      type: s.type,
      status: s.status,
      sink: publicSinkOf(s.type, s.sink),
      filters: s.filters,
      created_at: s.createdAt,
      updated_at: s.updatedAt,
      health: {
        lag,
        last_delivered_log_id: s.lastDeliveredLogId,
        last_success_at: s.lastSuccessAt,
        delivered: Number(s.deliveredCount),
        consecutive_failures: s.consecutiveFailures,
        next_attempt_at: s.consecutiveFailures > 0 && s.status === 'active' ? s.nextAttemptAt : null,
        suspended_at: s.suspendedAt,
        last_errors: s.lastErrors,
      },
    };
  }

  /**
   * The members a PATCH names replace the stored ones; the stored secrets stay unless replaced.
   * SPEC §6: a change of where the stream sends (its endpoint) needs every secret it holds
   * again, so that a caller who can PATCH cannot redirect credentials they were never shown.
   */
  private async patchedSink(existing: LogStreamEntity, change: Record<string, unknown>): Promise<LogStreamSink> {
    // A kafka sink holds no secret: its topic is checked against the prefix like a new one.
    if (existing.type === 'kafka') return this.validSink('kafka', { ...(existing.sink as KafkaLogStreamSink), ...change });

    const stored = existing.sink as HttpLogStreamSink;
    const { httpEndpoint, httpContentType, httpContentFormat } = stored;
    const sink = this.validSink('http', { httpEndpoint, httpContentType, httpContentFormat, ...change }) as HttpLogStreamSink;
    const authorizationGiven = change.httpAuthorization !== undefined;
    const headersGiven = change.httpCustomHeaders !== undefined;
    const storedHeaders = stored.httpCustomHeaders ?? [];

    if (sink.httpEndpoint !== stored.httpEndpoint) {
      const missing: string[] = [];
      if (!authorizationGiven && (stored.httpAuthorizationSealed !== undefined || stored.httpAuthorization !== undefined)) {
        missing.push('sink.httpAuthorization (null removes it)');
      }
      if (!headersGiven && storedHeaders.length > 0) missing.push('sink.httpCustomHeaders with their values ([] removes them)');
      if (missing.length > 0) {
        throw new BadRequestException(
          `changing sink.httpEndpoint sends the stream's credentials elsewhere: give ${missing.join(' and ')} again`,
        );
      }
    }

    const result = (await this.sealed(existing.id, sink)) as HttpLogStreamSink;
    if (!authorizationGiven) {
      // Kept sealed as stored; one a version before sealing kept in the clear is sealed now.
      if (stored.httpAuthorizationSealed !== undefined) result.httpAuthorizationSealed = stored.httpAuthorizationSealed;
      else if (stored.httpAuthorization !== undefined) {
        result.httpAuthorizationSealed = await this.seal(stored.httpAuthorization, SealedFor.logStreamAuthorization(existing.id));
      }
    }
    if (!headersGiven) result.httpCustomHeaders = await this.sealedHeaders(existing.id, storedHeaders);
    return result;
  }

  /** The sink as stored: the Authorization header and the custom header values sealed, never in the clear. */
  private async sealed(streamId: string, sink: LogStreamSink): Promise<LogStreamSink> {
    if (!('httpEndpoint' in sink)) return sink;
    const { httpAuthorization, httpAuthorizationSealed: _ignored, httpCustomHeaders, ...rest } = sink;
    const result: HttpLogStreamSink = { ...rest, httpCustomHeaders: await this.sealedHeaders(streamId, httpCustomHeaders) };
    if (httpAuthorization !== undefined) {
      result.httpAuthorizationSealed = await this.seal(httpAuthorization, SealedFor.logStreamAuthorization(streamId));
    }
    return result;
  }

  /** Values given (or stored in the clear by an older version) are sealed; sealed ones stay. */
  private sealedHeaders(streamId: string, headers: HttpCustomHeader[]): Promise<HttpCustomHeader[]> {
    return Promise.all(
      headers.map(async ({ header, value, valueSealed }) => ({
        header,
        valueSealed: value !== undefined ? await this.seal(value, SealedFor.logStreamHeader(streamId, header)) : valueSealed,
      })),
    );
  }

  private seal(plaintext: string, purpose: string): Promise<string> {
    return encryptSecretAsync(plaintext, this.config.security.signingKeyEncryptionSecret, purpose);
  }

  private find(id: string): Promise<LogStreamEntity> {
    return findOr404(this.streams, { id }, `No log stream with id ${id}`);
  }

  private validSink(type: LogStreamType, sink: Record<string, unknown>): LogStreamSink {
    try {
      return validateSink(type, sink, {
        allowPrivateNetwork: this.config.security.allowPrivateNetworkUrls,
        topicPrefix: this.config.kafka.topicPrefix,
        streamTopicPrefix: this.config.logStreams.kafkaTopicPrefix,
      });
    } catch (err) {
      if (err instanceof InvalidLogStreamException) throw new BadRequestException(err.message);
      throw err;
    }
  }

  private validFilters(filters: unknown[]): LogStreamFilter[] {
    try {
      return validateFilters(filters);
    } catch (err) {
      if (err instanceof InvalidLogStreamException) throw new BadRequestException(err.message);
      throw err;
    }
  }
}

/** A sink as the API shows it (SPEC §6): what it is and where it sends, no secret. */
function publicSinkOf(type: LogStreamType, sink: LogStreamSink): Record<string, unknown> {
  if (type === 'kafka') return { topic: (sink as KafkaLogStreamSink).topic };
  const { httpEndpoint, httpContentType, httpContentFormat, httpCustomHeaders } = sink as HttpLogStreamSink;
  return {
    httpEndpoint,
    httpContentType,
    httpContentFormat,
    httpCustomHeaders: (httpCustomHeaders ?? []).map(({ header }) => ({ header, value: REDACTED })),
  };
}
