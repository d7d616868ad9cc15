import { Logger } from '@nestjs/common';
import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { Consumer, EachBatchPayload, Kafka, KafkaMessage, Partitioners, Producer } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import { DeadLetter, Topics, envelopeSchema, logEventSchema, payloadSchemaOf, prefixed } from '@ulo/contracts';
import { OutageReporter, isDataRejection, isTransient, pause, retryDelayMs } from '@ulo/resilience';
import { ConsumerMetrics } from './consumer.metrics';
import { BatchContext, BatchResult, EventOrigin } from './event-context';
import { PoisonMessageException } from './poison-message.exception';
import { ensureTopics } from './topic-admin';

export interface KafkaEventServerOptions {
  kafka: Kafka;
  topicPrefix: string;
  /** The consumer group: one per app, so each app gets every event and scales on its own. */
  groupId: string;
  /** Partitions handled at once by one instance (order is kept within a partition). */
  partitionsConsumedConcurrently?: number;
  commitIntervalMs?: number;
  /** How long the group waits for a silent member before handing its partitions to the others. */
  sessionTimeoutMs?: number;
}

/**
 * Delays between attempts at a message whose handler failed: transient outages (capped low: an
 * attempt costs one query, and the partition should move within a second or two of the database's
 * return), then anything else.
 */
const TRANSIENT_RETRY = { baseMs: 200, maxMs: 2_000 };
const OTHER_RETRY = { baseMs: 1_000, maxMs: 30_000 };
/**
 * A fetch waits until it has this much to hand out, or this long: under load every partition's
 * batch arrives larger (fewer transactions, fewer round trips); when quiet, a message waits at most
 * the wait.
 */
const FETCH = { minBytes: 64 * 1024, maxWaitMs: 100 };
/** Delays between attempts to (re)build the consumer while Kafka is unreachable. */
const RECONNECT = { baseMs: 500, maxMs: 10_000 };
/** A handler waiting to retry heartbeats this often, so the group keeps it. */
const HEARTBEAT_SLICE_MS = 1_000;
/** Messages handed to a handler at once at most; a larger fetch is handled in several batches. */
export const MAX_HANDLER_BATCH = 500;

/** A message that decoded, with what it came from. */
interface Decoded {
  data: unknown;
  raw: string | null;
  origin: EventOrigin;
}

/**
 * A NestJS transport for our topics (SPEC §8), batch first: @EventPattern names the unprefixed
 * topic, and its handler receives the messages of one partition's fetch (at most
 * MAX_HANDLER_BATCH), in order, as `(events, BatchContext)`; a single message is the one-element
 * batch. Envelope and payload are validated before the handler runs; offsets are resolved only
 * after the handler resolved (and so after its database commit), and committed every
 * `commitIntervalMs`.
 *
 * Failure rules, in one place:
 * - a message that cannot be decoded or validated goes to the dead-letter topic alone, before the
 *   batch is handled; an event the handler rejects (BatchResult) likewise, after it;
 * - a batch whose handler throws a PoisonMessageException or an error of data the database
 *   refuses is handled again one message at a time, so that only the message at fault is
 *   dead-lettered and its neighbours are handled;
 * - any other failure is retried without limit on that partition, with capped, jittered backoff
 *   and heartbeats (the partition waits, the others go on): an accepted logout is never dropped;
 * - Kafka unreachable, at start or later: the consumer is rebuilt until it joins again; the process
 *   never exits for it. Each outage is logged once when it starts and once when it ends.
 */
export class KafkaEventServer extends Server implements CustomTransportStrategy {
  private readonly log = new Logger(KafkaEventServer.name);
  private consumer: Consumer | null = null;
  private dlqProducer: Producer | null = null;
  private closing = false;
  private joined = false;
  private loop: Promise<void> | null = null;
  private stopCurrent: (reason: unknown) => void = () => undefined;
  private readonly kafkaOutage: OutageReporter;
  private readonly handlerOutage: OutageReporter;
  /** The `ulo_consumer_lag` series this instance set, by `topic/partition`: dropped once the partition is gone. */
  private readonly lagSeries = new Map<string, { topic: string; partition: string }>();

  constructor(private readonly options: KafkaEventServerOptions) {
    super();
    this.kafkaOutage = new OutageReporter(this.log, `Kafka (consumer group ${options.groupId})`);
    this.handlerOutage = new OutageReporter(this.log, `a dependency of ${options.groupId}'s handlers`);
  }

  /** Joined to the group and fetching: what readiness reports. */
  get isConsuming(): boolean {
    return this.joined && !this.closing;
  }

  /** Why the consumer is not consuming, when it is not (for readiness). */
  get problem(): string | null {
    if (this.isConsuming) return null;
    return this.kafkaOutage.lastFailure ?? 'not joined to the consumer group yet';
  }

  listen(callback: (err?: unknown) => void): void {
    if (this.messageHandlers.size === 0) {
      this.log.warn(`${this.options.groupId}: no event handlers registered; not joining the group`);
    } else {
      this.loop = this.keepConsuming();
    }
    // The app is up whether or not Kafka answers: the loop joins the group when it can.
    callback();
  }

  private async keepConsuming(): Promise<void> {
    for (let failures = 1; !this.closing; failures++) {
      try {
        const stopped = await this.startConsumer();
        if (!this.closing) this.kafkaOutage.failed(await stopped);
      } catch (err) {
        if (!this.closing) this.kafkaOutage.failed(err);
      }
      this.joined = false;
      // Also when closing: a consumer that finished connecting after close() began is left here.
      await this.disconnect();
      await pause(retryDelayMs(failures, RECONNECT.baseMs, RECONNECT.maxMs), () => this.closing);
    }
  }

  /**
   * Connects, subscribes and runs a consumer; resolves once it runs, with a promise of the error
   * that stops it for good (kafkajs restarts by itself after the errors it deems retriable).
   */
  private async startConsumer(): Promise<Promise<unknown>> {
    const { kafka, groupId, topicPrefix } = this.options;
    const sessionTimeout = this.options.sessionTimeoutMs ?? 10_000;
    await ensureTopics(kafka, topicPrefix);
    this.dlqProducer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    await this.dlqProducer.connect();
    const consumer = kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      minBytes: FETCH.minBytes,
      maxWaitTimeInMs: FETCH.maxWaitMs,
      sessionTimeout,
      // How long a rebalance waits for members to rejoin: a member busy in a handler rejoins at its next heartbeat.
      rebalanceTimeout: Math.max(sessionTimeout, 30_000),
      heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 10)),
      // kafkajs restarts a crashed consumer by itself after a retriable error, unless we are closing:
      // a crash caused by our own disconnect must not bring the consumer back behind close()'s back.
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000, restartOnFailure: () => Promise.resolve(!this.closing) },
    });
    this.consumer = consumer;
    const stopped = new Promise<unknown>((resolve) => (this.stopCurrent = resolve));
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.joined = true;
      this.kafkaOutage.recovered();
      this.forgetLagExcept(payload.memberAssignment);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.joined = false;
      if (this.closing) return;
      this.kafkaOutage.failed(payload.error);
      // kafkajs restarts the consumer itself when `restart` is true; otherwise it is ours to rebuild.
      if (!payload.restart) this.stopCurrent(payload.error);
    });
    await consumer.connect();
    for (const pattern of this.messageHandlers.keys()) {
      await consumer.subscribe({ topic: prefixed(topicPrefix, pattern as never), fromBeginning: true });
    }
    await consumer.run({
      autoCommit: true,
      autoCommitInterval: this.options.commitIntervalMs ?? 500,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 6,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleFetch(payload),
    });
    return stopped;
  }

  /** One partition's fetch: decoded, handled in batches, each batch's last offset resolved once handled. */
  private async handleFetch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const heartbeat = () => payload.heartbeat();
    const logical = batch.topic.slice(this.options.topicPrefix.length);
    const handler = this.getHandlerByPattern(logical);
    if (!handler) return;
    const labels = { topic: batch.topic, partition: String(batch.partition) };
    const highWatermark = BigInt(batch.highWatermark);
    for (let start = 0; start < batch.messages.length; start += MAX_HANDLER_BATCH) {
      // A rebalance took the partition, or the consumer stops: the rest is handled by whoever has it next.
      if (!payload.isRunning() || payload.isStale()) return;
      const messages = batch.messages.slice(start, start + MAX_HANDLER_BATCH);
      // While a batch is retried the lag shows it unhandled, not what the partition lagged before.
      this.reportLag(labels, highWatermark, BigInt(messages[0].offset));
      const endTimer = ConsumerMetrics.batchDuration.startTimer({ topic: batch.topic });
      let deadLettered = 0;
      const decoded: Decoded[] = [];
      for (const message of messages) {
        const origin = originOf(batch.partition, message);
        const raw = message.value?.toString() ?? null;
        try {
          decoded.push({ data: this.decode(logical, raw), raw, origin });
        } catch (err) {
          await this.deadLetter(batch.topic, origin, raw, err);
          deadLettered++;
        }
      }
      if (decoded.length > 0) deadLettered += await this.handleBatch(handler, batch.topic, batch.partition, decoded, heartbeat);
      const last = messages[messages.length - 1].offset;
      payload.resolveOffset(last);
      endTimer();
      ConsumerMetrics.handled.inc({ topic: batch.topic }, messages.length - deadLettered);
      this.reportLag(labels, highWatermark, BigInt(last) + 1n);
      await heartbeat();
    }
  }

  /** `ulo_consumer_lag`: what the fetch's high watermark is ahead of `next`, the first offset not handled. */
  private reportLag(labels: { topic: string; partition: string }, highWatermark: bigint, next: bigint): void {
    const lag = highWatermark > next ? Number(highWatermark - next) : 0;
    ConsumerMetrics.lag.set(labels, lag);
    this.lagSeries.set(`${labels.topic}/${labels.partition}`, labels);
  }

  /** Drops the lag of partitions this instance no longer has (after a rebalance; all of them on close). */
  private forgetLagExcept(assignment: Record<string, number[]>): void {
    for (const [key, labels] of this.lagSeries) {
      if (assignment[labels.topic]?.includes(Number(labels.partition))) continue;
      ConsumerMetrics.lag.remove(labels);
      this.lagSeries.delete(key);
    }
  }

  /**
   * Runs the handler on `items` until it succeeds: transient and unknown failures are retried (the
   * partition waits); poison splits the batch into one-message batches, so that only the message
   * at fault is dead-lettered. Resolves with the number of messages dead-lettered.
   */
  private async handleBatch(
    handler: NonNullable<ReturnType<Server['getHandlerByPattern']>>,
    topic: string,
    partition: number,
    items: Decoded[],
    heartbeat: () => Promise<void>,
  ): Promise<number> {
    const ctx = new BatchContext(topic, partition, items.map((i) => i.origin), heartbeat);
    for (let attempt = 1; ; attempt++) {
      let result: BatchResult | undefined;
      try {
        result = (await lastValueFrom(this.transformToObservable(await handler(items.map((i) => i.data), ctx)), {
          defaultValue: undefined,
        })) as BatchResult | undefined;
      } catch (err) {
        if (err instanceof PoisonMessageException || isDataRejection(err)) {
          if (items.length === 1) {
            await this.deadLetter(topic, items[0].origin, items[0].raw, err);
            return 1;
          }
          this.log.warn(`${topic}[${partition}]: a batch of ${items.length} failed for good (${(err as Error).message}); handling it one by one`);
          let deadLettered = 0;
          for (const item of items) deadLettered += await this.handleBatch(handler, topic, partition, [item], heartbeat);
          return deadLettered;
        }
        // Shutting down: the offsets are not resolved, so the batch is handled again after a restart.
        if (this.closing) throw err;
        const transient = isTransient(err);
        if (transient) {
          this.handlerOutage.failed(err);
        } else {
          const at = `${topic}[${partition}]@${items[0].origin.offset}${items.length > 1 ? `..${items[items.length - 1].origin.offset}` : ''}`;
          this.log.error(`${at} attempt ${attempt} failed, retrying: ${(err as Error)?.message ?? String(err)}`);
        }
        const policy = transient ? TRANSIENT_RETRY : OTHER_RETRY;
        await this.waitHeartbeating(retryDelayMs(attempt, policy.baseMs, policy.maxMs), heartbeat);
        continue;
      }
      if (attempt > 1) this.handlerOutage.recovered();
      let deadLettered = 0;
      for (const { index, reason } of result?.rejected ?? []) {
        const item = items[index];
        if (!item) continue;
        await this.deadLetter(topic, item.origin, item.raw, new PoisonMessageException(reason));
        deadLettered++;
      }
      return deadLettered;
    }
  }

  /**
   * Waits before the next attempt while keeping the membership: a heartbeat that reports a
   * rebalance throws, and kafkajs then rejoins and hands the message out again.
   */
  private async waitHeartbeating(ms: number, heartbeat: () => Promise<void>): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (this.closing) throw new Error('consumer is shutting down');
      await pause(Math.min(HEARTBEAT_SLICE_MS, until - Date.now()), () => this.closing);
      await heartbeat();
    }
  }

  /** Validates at the consumer what the producer validated before sending. */
  private decode(logical: string, raw: string | null): unknown {
    if (raw === null) throw new PoisonMessageException('empty message');
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new PoisonMessageException('value is not JSON');
    }
    if (logical === Topics.logEvents) {
      // SPEC §5: the bare event, no envelope.
      const event = logEventSchema.safeParse(json);
      if (!event.success) {
        const issue = event.error.issues[0];
        throw new PoisonMessageException(`invalid log event: ${issue.path.join('.') || 'value'}: ${issue.message}`);
      }
      return event.data;
    }
    const schema = payloadSchemaOf(logical);
    if (!schema) throw new PoisonMessageException(`no schema for topic ${logical}`);
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) throw new PoisonMessageException(`invalid envelope: ${envelope.error.message}`);
    const payload = schema.safeParse(envelope.data.payload);
    if (!payload.success) throw new PoisonMessageException(`invalid payload: ${payload.error.message}`);
    return { ...envelope.data, payload: payload.data };
  }

  private async deadLetter(topic: string, origin: EventOrigin, raw: string | null, err: unknown): Promise<void> {
    const reason = err instanceof Error ? err.message : String(err);
    this.log.error(`dead-lettering ${topic}[${origin.partition}]@${origin.offset}: ${reason}`);
    const letter: DeadLetter = {
      sourceTopic: topic,
      partition: origin.partition,
      offset: origin.offset,
      consumerGroup: this.options.groupId,
      error: reason,
      value: raw,
      key: origin.key,
    };
    // If the send fails the handler's error reaches kafkajs, which hands the batch out again.
    await this.dlqProducer!.send({
      topic: prefixed(this.options.topicPrefix, Topics.deadLetter),
      acks: -1,
      messages: [{ key: origin.key, value: JSON.stringify(letter) }],
    });
    ConsumerMetrics.deadLettered.inc({ topic });
  }

  private async disconnect(): Promise<void> {
    const [consumer, producer] = [this.consumer, this.dlqProducer];
    this.consumer = null;
    this.dlqProducer = null;
    // Leaving the group hands the partitions over at once instead of after the session timeout.
    await consumer?.disconnect().catch((err: Error) => this.log.warn(`leaving the consumer group: ${err.message}`));
    await producer?.disconnect().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.joined = false;
    this.stopCurrent('closing');
    await this.disconnect();
    // A loop still connecting to an unreachable broker is not waited for long.
    await Promise.race([this.loop, pause(5_000)]);
    await this.disconnect();
    this.forgetLagExcept({});
  }

  on(): never {
    throw new Error('KafkaEventServer does not emit status events');
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }
}

function originOf(partition: number, message: KafkaMessage): EventOrigin {
  return { partition, offset: message.offset, key: message.key?.toString() ?? null };
}
