import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import { LogEventRecorder, OutboxRelay } from '@ulo/messaging';
import { RejectionBudget, callerText, rejectionSource, type Rejection } from '../revocation/rejection-budget';
import { SetDelivery } from './set-delivery';
import { SsfException } from './ssf.exception';

interface SetRejection extends Rejection {
  jti?: string;
  eventType?: string;
}

/**
 * SPEC §9, §5: every refused Security Event Token is logged as `ssf_event_rejected` (details:
 * `err`, `reason`, `response.statusCode`, and `jti` / `event_type` once its signature verified),
 * within the same kind of log budget as rejected revocation requests (RejectionBudget, its own
 * budgets): a flood of junk costs no database write per request.
 */
@Injectable()
export class SsfRejectionLog implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly budget: RejectionBudget<SetRejection>;

  constructor(@Inject(APP_CONFIG) config: GatewayConfig, logs: LogEventRecorder, relay: OutboxRelay) {
    this.budget = new RejectionBudget<SetRejection>(config.rejectionLog, logs, relay, {
      type: 'ssf_event_rejected',
      noun: 'Security Event Token',
      single: (r) => ({
        type: 'ssf_event_rejected',
        description: callerText(`Security Event Token rejected: ${r.description}`, 1024) ?? '',
        ...rejectionSource(r),
        details: {
          err: r.error,
          reason: callerText(r.description, 1024),
          ...(r.eventType !== undefined ? { event_type: callerText(r.eventType, 256) } : {}),
          ...(r.jti !== undefined ? { jti: r.jti } : {}),
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

  record(connectionName: string, delivery: SetDelivery, err: SsfException): Promise<void> {
    return this.budget.record({
      connectionName,
      connection: delivery.connection ? { id: delivery.connection.id, name: delivery.connection.name } : null,
      authenticated: delivery.authenticated,
      origin: delivery.origin,
      status: err.status,
      error: err.err,
      description: err.description,
      jti: delivery.jti,
      eventType: delivery.eventType,
    });
  }
}
