import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import { TopicRetentionMs, Topics, prefixed } from '@ulo/contracts';
import { ManagementApi } from '../auth/management-api.decorator';

/** The retention in force (read only: it is configuration), for an operator and for a console. */
export interface RetentionView {
  log_days: number;
  logout_request_days: number;
  parked_delivery_days: number;
  revoked_credential_days: number;
  prune_interval_ms: number;
  /** `retention.ms` each of the deployment's topics is created with. */
  kafka_topics: Record<string, { retention_ms: number }>;
}

@ApiTags('retention')
@ManagementApi()
@Controller('api/v2/retention')
export class RetentionController {
  constructor(@Inject(APP_CONFIG) private readonly config: GatewayConfig) {}

  @Get()
  get(): RetentionView {
    const r = this.config.retention;
    return {
      log_days: r.logDays,
      logout_request_days: r.logoutRequestDays,
      parked_delivery_days: r.parkedDeliveryDays,
      revoked_credential_days: r.revokedCredentialDays,
      prune_interval_ms: r.pruneIntervalMs,
      kafka_topics: Object.fromEntries(
        Object.values(Topics).map((t) => [prefixed(this.config.kafka.topicPrefix, t), { retention_ms: TopicRetentionMs[t] }]),
      ),
    };
  }
}
