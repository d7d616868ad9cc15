export interface OutageLogger {
  warn(message: string): void;
  log(message: string): void;
}

/**
 * SPEC §8: an outage is logged once when it starts and once when it ends, however many attempts
 * fail in between.
 */
export class OutageReporter {
  private downSince: number | null = null;
  private failures = 0;
  private lastError = '';

  constructor(
    private readonly logger: OutageLogger,
    /** What is unreachable, for the log line: "PostgreSQL", "Kafka (consumer group ulo.x)". */
    private readonly what: string,
    private readonly now: () => number = Date.now,
  ) {}

  get isDown(): boolean {
    return this.downSince !== null;
  }

  /** The last failure's message while down, else null. */
  get lastFailure(): string | null {
    return this.downSince === null ? null : this.lastError;
  }

  failed(err: unknown): void {
    this.failures++;
    this.lastError = err instanceof Error ? err.message : String(err);
    if (this.downSince !== null) return;
    this.downSince = this.now();
    this.logger.warn(`${this.what} is unavailable (${this.lastError}); retrying until it is back`);
  }

  recovered(): void {
    if (this.downSince === null) return;
    const seconds = ((this.now() - this.downSince) / 1000).toFixed(1);
    this.logger.log(`${this.what} is back after ${seconds} s and ${this.failures} failed attempt(s)`);
    this.downSince = null;
    this.failures = 0;
  }
}
