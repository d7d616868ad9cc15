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
    return { topic: prefixed(this.topicPrefix, topic), key, value: JSON.stringify(envelope) };
  }

  logEventsTopic(): string {
    return prefixed(this.topicPrefix, Topics.logEvents);
  }

  async insert(manager: EntityManager, rows: OutboxRow[]): Promise<void> {
    // Chunked multi-row inserts: a user with thousands of tokens is a handful of statements.
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      const params: (string | null)[] = [];
      const tuples = chunk.map((r, j) => {
        params.push(r.topic, r.key, r.value);
        return `($${j * 3 + 1}, $${j * 3 + 2}, $${j * 3 + 3})`;
      });
      await manager.query(`INSERT INTO outbox (topic, message_key, value) VALUES ${tuples.join(', ')}`, params);
    }
  }
}
