import { OnApplicationShutdown } from '@nestjs/common';
import type { LogStreamType } from '@ulo/contracts';
import type { SafeHttpClient } from '@ulo/security';
import { HttpLogSink } from './http-log.sink';
import { KafkaLogSink } from './kafka-log.sink';
import { LogSink } from './log-sink';

/** The sink of each stream type. */
export class LogSinks implements OnApplicationShutdown {
  constructor(
    private readonly http: HttpLogSink,
    private readonly kafka: KafkaLogSink,
    private readonly httpClient: SafeHttpClient,
  ) {}

  of(type: LogStreamType): LogSink {
    switch (type) {
      case 'http':
        return this.http;
      case 'kafka':
        return this.kafka;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.kafka.close();
    await this.httpClient.close();
  }
}
