import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import {
  Envelope,
  EnvelopedTopic,
  EventCatalogue,
  Topics,
  payloadSchemas,
  prefixed,
} from '@ulo/contracts';

export interface OutboxRow {
  topic: string;
  key: string | null;
  value: string;
}

/**
 * The largest message the outbox takes: far below the broker's 1 MiB, so that every row can be
 * published. A larger event is refused when it is written, never discovered by the relay.
 */
export const MAX_OUTBOX_MESSAGE_BYTES = 256 * 1024;

export class OversizedEventException extends Error {}

/**
 * Builds outbox rows; the caller inserts them in the transaction of the change they announce.
 * Payloads are validated here, at the producer, as well as at the consumer.
 */
export class OutboxWriter {
  constructor(private readonly topicPrefix: string) {}

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

  /** One statement however many rows: the columns go as arrays, in order. */
  async insert(manager: EntityManager, rows: OutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    await manager.query(
      `INSERT INTO outbox (topic, message_key, value)
       SELECT topic, message_key, value
       FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS r (topic, message_key, value, n)
       ORDER BY n`,
      [rows.map((r) => r.topic), rows.map((r) => r.key), rows.map((r) => r.value)],
    );
  }
}
