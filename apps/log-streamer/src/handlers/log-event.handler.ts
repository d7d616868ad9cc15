import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Topics, logEventSchema } from '@ulo/contracts';
import { PoisonMessageException } from '@ulo/messaging';
import { StoreLogEvents } from '../store-log-events/store-log-events.usecase';

@Controller()
export class LogEventHandler {
  constructor(private readonly storeLogEvents: StoreLogEvents) {}

  /** `<prefix>log-events` carries the bare event (SPEC §5): validated here, as the producer did. */
  @EventPattern(Topics.logEvents)
  async onLogEvent(@Payload() value: unknown): Promise<void> {
    const parsed = logEventSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new PoisonMessageException(`invalid log event: ${issue.path.join('.') || 'value'}: ${issue.message}`);
    }
    await this.storeLogEvents.execute(parsed.data);
  }
}
