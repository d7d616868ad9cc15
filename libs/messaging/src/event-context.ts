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
