import { Check, Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import {
  LOG_STREAM_STATUSES,
  LOG_STREAM_TYPES,
  type HttpContentFormat,
  type LogCategory,
  type LogStreamStatus,
  type LogStreamType,
} from '@ulo/contracts';
import { oneOf } from './check-expressions';

/**
 * A custom header as stored: its value is a secret too (API keys travel there), sealed in
 * `valueSealed`; `value` holds it in the clear only in rows written before values were sealed
 * (`npm run secrets:reseal` seals those).
 */
export interface HttpCustomHeader {
  header: string;
  value?: string;
  valueSealed?: string;
}

/**
 * SPEC §5 `type: "http"`. The Authorization header is a secret: sent verbatim, never returned,
 * stored sealed (`httpAuthorizationSealed`, under SIGNING_KEY_ENCRYPTION_SECRET).
 */
export interface HttpLogStreamSink {
  httpEndpoint: string;
  /** The caller's value, as validated; the gateway stores it only sealed. */
  httpAuthorization?: string;
  httpAuthorizationSealed?: string;
  httpContentType: string;
  httpContentFormat: HttpContentFormat;
  httpCustomHeaders: HttpCustomHeader[];
}

/** SPEC §5 `type: "kafka"`: the topic the filtered events are re-published to. */
export interface KafkaLogStreamSink {
  topic: string;
}

export type LogStreamSink = HttpLogStreamSink | KafkaLogStreamSink;

export interface LogStreamFilter {
  type: 'category';
  name: LogCategory;
}

export interface LogStreamError {
  at: string;
  error: string;
}

/**
 * A log stream and its delivery state. The position of a stream is its queue
 * (`log_stream_queue`); `last_delivered_log_id` and the counters are for operators.
 */
@Entity({ name: 'log_streams' })
@Check('log_streams_type_check', oneOf('type', LOG_STREAM_TYPES))
@Check('log_streams_status_check', oneOf('status', LOG_STREAM_STATUSES))
export class LogStreamEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'log_streams_pkey' })
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  type: LogStreamType;

  @Column({ type: 'text', default: 'active' })
  status: LogStreamStatus;

  @Column({ type: 'jsonb' })
  sink: LogStreamSink;

  @Column({ type: 'jsonb', default: [] })
  filters: LogStreamFilter[];

  /** The filters' category names, for matching in SQL; empty: every event. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  categories: LogCategory[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'last_delivered_log_id', type: 'text', nullable: true })
  lastDeliveredLogId: string | null;

  @Column({ name: 'last_success_at', type: 'timestamptz', nullable: true })
  lastSuccessAt: Date | null;

  @Column({ name: 'delivered_count', type: 'bigint', default: 0 })
  deliveredCount: string;

  @Column({ name: 'consecutive_failures', type: 'integer', default: 0 })
  consecutiveFailures: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  /** The last 10 failed deliveries, newest first. */
  @Column({ name: 'last_errors', type: 'jsonb', default: [] })
  lastErrors: LogStreamError[];

  @Column({ name: 'suspended_at', type: 'timestamptz', nullable: true })
  suspendedAt: Date | null;

  /** The log-streamer instance driving this stream, until `lease_until`. */
  @Column({ name: 'lease_owner', type: 'text', nullable: true })
  leaseOwner: string | null;

  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil: Date | null;
}
