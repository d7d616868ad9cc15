import type { Envelope } from '@ulo/contracts';

/** What a handler may know about the message it is handling: no kafkajs types leak through. */
export class EventContext {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: string,
    readonly key: string | null,
    readonly heartbeat: () => Promise<void>,
  ) {}
}

export type EventHandler<T> = (envelope: Envelope<T>, ctx: EventContext) => Promise<void>;
