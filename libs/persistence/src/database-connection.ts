import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OutageReporter, retryForever } from '@ulo/resilience';

/**
 * Connects the app's DataSource without ever making the process exit (SPEC §8). The first attempt
 * is awaited, so an app whose database answers starts connected, as before; if it does not
 * answer, the app starts anyway and connects in the background, with capped backoff. Once
 * connected, pg's pool reconnects by itself after a database restart: a query in between fails
 * and its caller retries (or answers 503).
 */
@Injectable()
export class DatabaseConnection implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('Database');
  private readonly outage = new OutageReporter(this.log, 'PostgreSQL');
  private stopped = false;
  private connecting: Promise<unknown> | null = null;

  constructor(private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    try {
      await this.dataSource.initialize();
    } catch (err) {
      this.outage.failed(err);
      this.connecting = retryForever(() => this.dataSource.initialize(), {
        reporter: this.outage,
        baseMs: 500,
        maxMs: 5_000,
        stopped: () => this.stopped,
      });
    }
  }

  get isConnected(): boolean {
    return this.dataSource.isInitialized;
  }

  /** Resolves once connected (at once if already); for start-up work that needs the database. */
  async connected(): Promise<void> {
    await this.connecting;
    if (!this.dataSource.isInitialized) throw new Error('the database connection was given up (shutting down)');
  }

  /**
   * Start-up work that needs the database (e.g. creating the first signing key): done before the
   * app starts when the database answers, else in the background once it does, retried until it
   * succeeds. Never makes the start fail.
   */
  async startupTask(what: string, work: () => Promise<unknown>): Promise<void> {
    const retry = () =>
      this.connected()
        .then(() => retryForever(work, { reporter: new OutageReporter(this.log, `PostgreSQL (${what})`), stopped: () => this.stopped }))
        .catch((err: Error) => this.log.warn(`${what}: ${err.message}`));
    if (!this.isConnected) {
      void retry();
      return;
    }
    try {
      await work();
    } catch (err) {
      this.log.warn(`${what} failed (${(err as Error).message}); retrying in the background`);
      void retry();
    }
  }

  /** One round trip; rejects when the database does not answer within `timeoutMs`. */
  async ping(timeoutMs = 1_500): Promise<void> {
    if (!this.dataSource.isInitialized) throw new Error(this.outage.lastFailure ?? 'not connected yet');
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.dataSource.query('SELECT 1'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.connecting;
  }
}
