import { Logger } from '@nestjs/common';
import { Kafka, Partitioners, Producer } from 'kafkajs';
import { SerializedLogStreamEnvelope, TopicPartitions, Topics } from '@ulo/contracts';
import { createTopicsIfMissing } from '@ulo/messaging';
import type { KafkaLogStreamSink } from '@ulo/persistence';
import { LogSink, LogSinkException, SinkTarget } from './log-sink';

/**
 * SPEC §5 `type: "kafka"`: re-publishes the stream's events to `sink.topic`, key `log_id`, value
 * the envelope `{"log_id", "data"}`, with acks from all in-sync replicas. A missing topic is
 * created only when LOG_STREAM_KAFKA_CREATE_TOPICS is true (the broker does not auto-create);
 * otherwise it is a failed delivery, retried like any other until someone creates the topic.
 */
export class KafkaLogSink implements LogSink {
  private readonly log = new Logger(KafkaLogSink.name);
  private producer: Producer | null = null;
  private connecting: Promise<Producer> | null = null;
  private readonly knownTopics = new Set<string>();

  constructor(
    private readonly kafka: Kafka,
    private readonly createTopics = false,
  ) {}

  async deliver(target: SinkTarget, batch: SerializedLogStreamEnvelope[]): Promise<number> {
    const { topic } = target.sink as KafkaLogStreamSink;
    try {
      await this.ensureTopic(topic);
      const producer = await this.connected();
      await producer.send({
        topic,
        acks: -1,
        messages: batch.map((e) => ({ key: e.log_id, value: e.json })),
      });
    } catch (err) {
      throw new LogSinkException(`publishing to ${topic} failed: ${(err as Error).message}`);
    }
    return batch.length;
  }

  async close(): Promise<void> {
    const producer = this.producer ?? (await this.connecting?.catch(() => null));
    this.producer = null;
    this.connecting = null;
    await producer?.disconnect();
  }

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    this.connecting ??= (async () => {
      const producer = this.kafka.producer({
        allowAutoTopicCreation: false,
        // As the outbox relay: kafkajs' own retry can drop a moved partition's messages; a failed
        // send is a failed delivery, which the stream retries whole (at least once).
        retry: { retries: 0 },
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      this.producer = producer;
      return producer;
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async ensureTopic(topic: string): Promise<void> {
    if (this.knownTopics.has(topic)) return;
    if (this.createTopics) {
      const created = await createTopicsIfMissing(this.kafka, [{ topic, numPartitions: TopicPartitions[Topics.logEvents] }]);
      if (created.length) this.log.log(`created topic ${topic} for log streams`);
    } else if (!(await this.exists(topic))) {
      throw new Error('the topic does not exist; create it, or set LOG_STREAM_KAFKA_CREATE_TOPICS=true');
    }
    this.knownTopics.add(topic);
  }

  private async exists(topic: string): Promise<boolean> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return (await admin.listTopics()).includes(topic);
    } finally {
      await admin.disconnect();
    }
  }
}
