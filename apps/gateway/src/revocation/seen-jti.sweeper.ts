import { Injectable, Logger, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { SeenJtiRepository } from './seen-jti.repository';

/** Rows per DELETE: a short transaction, however many jtis expired (at 1,500/s a minute is 90,000). */
const CHUNK = 5_000;
const EVERY_MS = 60_000;

/** Forgets jtis whose tokens can no longer be valid (SPEC §2.5), so the replay table stays small. */
@Injectable()
export class SeenJtiSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(SeenJtiSweeper.name);
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<number> | null = null;
  private stopped = false;

  constructor(private readonly seenJtis: SeenJtiRepository) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .catch((err: Error) => {
          this.log.warn(`sweeping seen jtis failed: ${err.message}`);
          return 0;
        })
        .finally(() => (this.sweeping = null));
    }, EVERY_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
  }

  /** Deletes the expired jtis, a chunk per statement; how many. */
  async sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      const forgotten = await this.seenJtis.forgetExpired(CHUNK);
      total += forgotten;
      if (forgotten < CHUNK || this.stopped) break;
    }
    if (total > 0) this.log.debug(`forgot ${total} expired jti(s)`);
    return total;
  }
}
