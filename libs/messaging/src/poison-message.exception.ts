/** A message that can never be handled: it goes to the dead-letter topic at once, without retries. */
export class PoisonMessageException extends Error {}
