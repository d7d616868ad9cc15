import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Envelope, EnvelopedTopic, EventCatalogue, Topics, payloadSchemas, prefixed } from '@ulo/contracts';
import { OutboxRepository, type OutboxRow } from '@ulo/persistence';

/**
 * The largest message the outbox takes: far below the broker's 1 MiB, so that every row can be
 * published. A larger event is refused when it is written, never discovered by the relay.
 */
export const MAX_OUTBOX_MESSAGE_BYTES = 256 * 1024;

export class OversizedEventException extends Error {}

/**
 * The one way an app publishes: it builds outbox rows (payloads validated here, at the producer,
 * as well as at the consumer) and writes them in the transaction of the change they announce.
 */
export class OutboxWriter {
  constructor(
    private readonly topicPrefix: string,
    private readonly outbox: OutboxRepository,
  ) {}

  event<T extends EnvelopedTopic>(topic: T, key: string, correlationId: string, payload: EventCatalogue[T]): OutboxRow {
    const checked = payloadSchemas[topic].parse(payload) as EventCatalogue[T];
    const envelope: Envelope<EventCatalogue[T]> = {
      eventId: randomUUID(),
      type: topic.replace(/\.v\d+$/, ''),
      version: Number(/\.v(\d+)$/.exec(topic)?.[1] ?? 1),
      occurredAt: new Date().toISOString(),
      correlationId,
      payload: checked,
    };
    const value = JSON.stringify(envelope);
    const bytes = Buffer.byteLength(value);
    if (bytes > MAX_OUTBOX_MESSAGE_BYTES) {
      throw new OversizedEventException(`a ${topic} event of ${bytes} bytes exceeds the ${MAX_OUTBOX_MESSAGE_BYTES} bytes a message may have`);
    }
    return { topic: prefixed(this.topicPrefix, topic), key, value };
  }

  logEventsTopic(): string {
    return prefixed(this.topicPrefix, Topics.logEvents);
  }

  /** In the caller's transaction, in one statement. */
  async write(tx: EntityManager, rows: OutboxRow[]): Promise<void> {
    await this.outbox.insert(tx, rows);
  }
}
