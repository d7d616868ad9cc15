import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { MoreThan, Repository } from 'typeorm';
import { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { APP_CONFIG, AppConfig, signingSecretOf } from '@ulo/config';
import { HttpLogStreamSink, LogStreamEntity, LogStreamError, LogStreamFilter, LogStreamSink, LogStreamStatus, LogStreamType } from '@ulo/persistence';
import { encryptSecretAsync } from '@ulo/security';
import { newId } from '../ids';
import { CheckpointQuery, DEFAULT_TAKE, toPage } from '../paging/checkpoint-page';
import { deleteOr404, findOr404 } from '../rows';
import { CreateLogStreamDto, UpdateLogStreamDto } from './log-stream.dto';
import { InvalidLogStreamException, validateFilters, validateSink } from './log-stream-sink.policy';

export interface LogStreamView {
  id: string;
  name: string;
  type: LogStreamType;
  status: LogStreamStatus;
  /** Without `httpAuthorization`: a secret is never returned (SPEC §6). */
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
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(dto: CreateLogStreamDto): Promise<LogStreamView> {
    const sink = await this.sealed(this.validSink(dto.type, dto.sink));
    const filters = this.validFilters(dto.filters ?? []);
    const id = newId('lst');
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
    const lags = await this.lagOf(rows.slice(0, take).map((r) => r.id));
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
    return this.view(stream, (await this.lagOf([id])).get(id) ?? 0);
  }

  /**
   * Only the columns the caller changes are written: the log-streamer updates the delivery state
   * of the same row concurrently.
   */
  async update(id: string, dto: UpdateLogStreamDto): Promise<LogStreamView> {
    const existing = await this.find(id);
    const patch: QueryDeepPartialEntity<LogStreamEntity> = {};
    if (dto.name !== undefined) patch.name = dto.name;
    if (dto.sink !== undefined) {
      const { httpAuthorizationSealed: kept, ...current } = existing.sink as Partial<HttpLogStreamSink>;
      const sink = this.validSink(existing.type, { ...current, ...dto.sink });
      // httpAuthorization absent from the change: the stored one stays; null: removed.
      patch.sink = await this.sealed(sink, dto.sink.httpAuthorization === undefined ? kept : undefined);
    }
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

  /** The stream's queue goes with it (ON DELETE CASCADE). */
  async remove(id: string): Promise<void> {
    await deleteOr404(this.streams, { id }, `No log stream with id ${id}`);
  }

  private view(s: LogStreamEntity, lag: number): LogStreamView {
    const { httpAuthorization: _plain, httpAuthorizationSealed: _sealed, ...sink } = s.sink as Partial<HttpLogStreamSink>;
    return {
      id: s.id,
      name: s.name,
      type: s.type,
      status: s.status,
      sink,
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

  /** The sink as stored: the Authorization header sealed, never in the clear. */
  private async sealed(sink: LogStreamSink, kept?: string): Promise<LogStreamSink> {
    if (!('httpEndpoint' in sink)) return sink;
    const { httpAuthorization, ...rest } = sink;
    if (httpAuthorization !== undefined) {
      return { ...rest, httpAuthorizationSealed: await encryptSecretAsync(httpAuthorization, signingSecretOf(this.config)) };
    }
    return kept === undefined ? rest : { ...rest, httpAuthorizationSealed: kept };
  }

  private async lagOf(ids: string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows: { stream_id: string; lag: number }[] = await this.streams.manager.query(
      `SELECT stream_id, count(*)::int AS lag FROM log_stream_queue WHERE stream_id = ANY ($1::text[]) GROUP BY stream_id`,
      [ids],
    );
    return new Map(rows.map((r) => [r.stream_id, r.lag]));
  }

  private find(id: string): Promise<LogStreamEntity> {
    return findOr404(this.streams, { id }, `No log stream with id ${id}`);
  }

  private validSink(type: LogStreamType, sink: Record<string, unknown>): LogStreamSink {
    try {
      return validateSink(type, sink, {
        allowPrivateNetwork: this.config.security.allowPrivateNetworkUrls,
        topicPrefix: this.config.kafka.topicPrefix,
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
