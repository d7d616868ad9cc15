import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import { LogEventRecorder, OutboxRelay } from '@ulo/messaging';
import { GtrException } from './gtr.exception';
import { RejectionBudget, callerText, rejectionSource, type Rejection } from './rejection-budget';
import { RevocationAttempt } from './revocation-attempt';

/**
 * SPEC §2 "Hostile traffic", §5: every rejected revocation request is logged as
 * `universal_logout_failed` (details: `error`, `error_description`, `response.statusCode`), within
 * the log budget of RejectionBudget: beyond it, one aggregated event per connection per interval.
 */
@Injectable()
export class RejectionLog implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly budget: RejectionBudget<Rejection>;

  constructor(@Inject(APP_CONFIG) config: GatewayConfig, logs: LogEventRecorder, relay: OutboxRelay) {
    this.budget = new RejectionBudget(config.rejectionLog, logs, relay, {
      type: 'universal_logout_failed',
      noun: 'revocation request',
      single: (r) => ({
        type: 'universal_logout_failed',
        description: callerText(r.description, 1024) ?? '',
        ...rejectionSource(r),
        details: {
          error: r.error,
          error_description: callerText(r.description, 1024),
          response: { statusCode: r.status },
        },
      }),
    });
  }

  onApplicationBootstrap(): void {
    this.budget.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.budget.stop();
  }

  /** Logs `err` for `attempt`: written now within the budget, else counted for the next aggregate. */
  record(attempt: RevocationAttempt, err: GtrException, now = Date.now()): Promise<void> {
    return this.budget.record(
      {
        connectionName: attempt.connectionName,
        connection: attempt.connection ? { id: attempt.connection.id, name: attempt.connection.name } : null,
        authenticated: attempt.verified,
        origin: attempt.origin,
        status: err.status,
        error: err.error,
        description: err.description,
      },
      now,
    );
  }

  /** Writes what was counted since the last flush. */
  flush(now = Date.now()): Promise<void> {
    return this.budget.flush(now);
  }
}
