import { Logger } from '@nestjs/common';
import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { Consumer, EachMessagePayload, Kafka, Partitioners, Producer } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import { DeadLetter, EnvelopedTopic, Topics, envelopeSchema, logEventSchema, payloadSchemas, prefixed } from '@ulo/contracts';
import { EventContext } from './event-context';
import { PoisonMessageException } from './poison-message.exception';

export interface KafkaEventServerOptions {
  kafka: Kafka;
  topicPrefix: string;
  /** The consumer group: one per app, so each app gets every event and scales on its own. */
  groupId: string;
  /** Partitions handled at once by one instance (order is kept within a partition). */
  partitionsConsumedConcurrently?: number;
  commitIntervalMs?: number;
  sessionTimeoutMs?: number;
}

/** Attempts at a message before it goes to the dead-letter topic. */
const MAX_ATTEMPTS = 5;

const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03']);

/**
 * Infrastructure (PostgreSQL, a socket) is unreachable: the message is not at fault. The consumer
 * does not dead-letter it but lets the partition wait until the infrastructure is back.
 */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return (code !== undefined && (CONNECTION_ERROR_CODES.has(code) || code.startsWith('08'))) ||
    /Connection terminated|connect ECONNREFUSED/.test(String((err as Error)?.message));
}

/**
 * A NestJS transport for our topics: @EventPattern names the unprefixed topic; envelope and payload
 * are validated before the handler runs; offsets are committed only after the handler resolved
 * (and so after its database commit); a message that keeps failing goes to the dead-letter topic
 * with its error instead of blocking the partition.
 */
export class KafkaEventServer extends Server implements CustomTransportStrategy {
  private readonly log = new Logger(KafkaEventServer.name);
  private consumer: Consumer | null = null;
  private dlqProducer: Producer | null = null;

  constructor(private readonly options: KafkaEventServerOptions) {
    super();
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      await this.start();
      callback();
    } catch (err) {
      callback(err);
    }
  }

  private async start(): Promise<void> {
    const { kafka, groupId, topicPrefix } = this.options;
    this.dlqProducer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    await this.dlqProducer.connect();
    this.consumer = kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 250,
      sessionTimeout: this.options.sessionTimeoutMs ?? 30000,
      rebalanceTimeout: this.options.sessionTimeoutMs ?? 30000,
      heartbeatInterval: Math.floor((this.options.sessionTimeoutMs ?? 30000) / 10),
    });
    const patterns = [...this.messageHandlers.keys()];
    if (patterns.length === 0) {
      this.log.warn(`${groupId}: no event handlers registered; not joining the group`);
      return;
    }
    await this.consumer.connect();
    for (const pattern of patterns) {
      await this.consumer.subscribe({
        topic: prefixed(topicPrefix, pattern as never),
        fromBeginning: true,
      });
    }
    await this.consumer.run({
      autoCommit: true,
      autoCommitInterval: this.options.commitIntervalMs ?? 500,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 6,
      eachMessage: (payload) => this.handleMessage(payload),
    });
  }

  private async handleMessage(payload: EachMessagePayload): Promise<void> {
    const { topic, partition, message } = payload;
    const heartbeat = () => payload.heartbeat();
    const logical = topic.slice(this.options.topicPrefix.length);
    const handler = this.getHandlerByPattern(logical);
    if (!handler) return;
    const ctx = new EventContext(topic, partition, message.offset, message.key?.toString() ?? null, heartbeat);
    const raw = message.value?.toString() ?? null;
    let data: unknown;
    try {
      data = this.decode(logical, raw);
    } catch (err) {
      await this.deadLetter(ctx, raw, err);
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await lastValueFrom(this.transformToObservable(await handler(data, ctx)), { defaultValue: undefined });
        return;
      } catch (err) {
        if (err instanceof PoisonMessageException) return this.deadLetter(ctx, raw, err);
        // kafkajs will not resolve this offset and redelivers after restarting the consumer.
        if (isConnectionError(err)) throw err;
        if (attempt >= MAX_ATTEMPTS) return this.deadLetter(ctx, raw, err);
        this.log.warn(`${topic}[${partition}]@${message.offset} attempt ${attempt} failed: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
        await heartbeat();
      }
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
    const schema = payloadSchemas[logical as EnvelopedTopic];
    if (!schema) throw new PoisonMessageException(`no schema for topic ${logical}`);
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) throw new PoisonMessageException(`invalid envelope: ${envelope.error.message}`);
    const payload = schema.safeParse(envelope.data.payload);
    if (!payload.success) throw new PoisonMessageException(`invalid payload: ${payload.error.message}`);
    return { ...envelope.data, payload: payload.data };
  }

  private async deadLetter(ctx: EventContext, raw: string | null, err: unknown): Promise<void> {
    const reason = err instanceof Error ? err.message : String(err);
    this.log.error(`dead-lettering ${ctx.topic}[${ctx.partition}]@${ctx.offset}: ${reason}`);
    const letter: DeadLetter = {
      sourceTopic: ctx.topic,
      partition: ctx.partition,
      offset: ctx.offset,
      consumerGroup: this.options.groupId,
      error: reason,
      value: raw,
      key: ctx.key,
    };
    await this.dlqProducer!.send({
      topic: prefixed(this.options.topicPrefix, Topics.deadLetter),
      acks: -1,
      messages: [{ key: ctx.key, value: JSON.stringify(letter) }],
    });
  }

  async close(): Promise<void> {
    await this.consumer?.disconnect();
    await this.dlqProducer?.disconnect();
    this.consumer = null;
    this.dlqProducer = null;
  }

  on(): never {
    throw new Error('KafkaEventServer does not emit status events');
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }
}
