import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { LogEvent, Topics } from '@ulo/contracts';
import { StoreLogEvents } from '../store-log-events/store-log-events.usecase';

@Controller()
export class LogEventHandler {
  constructor(private readonly storeLogEvents: StoreLogEvents) {}

  /** `<prefix>log-events` carries the bare event (SPEC §5), validated by the transport as every message is; a batch per transaction. */
  @EventPattern(Topics.logEvents)
  async onLogEvents(@Payload() events: LogEvent[]): Promise<void> {
    await this.storeLogEvents.execute(events);
  }
}
