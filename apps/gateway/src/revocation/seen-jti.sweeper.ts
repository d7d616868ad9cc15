import { Injectable, Logger, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { SeenJtiRepository } from './seen-jti.repository';

/** Forgets jtis whose tokens can no longer be valid, so the replay table stays small. */
@Injectable()
export class SeenJtiSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(SeenJtiSweeper.name);
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly seenJtis: SeenJtiRepository) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.seenJtis
        .forgetExpired()
        .catch((err: Error) => this.log.warn(`sweeping seen jtis failed: ${err.message}`));
    }, 60_000);
    this.timer.unref();
  }

  beforeApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
