import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { OutboxRelay } from '@ulo/messaging';
import { DatabaseConnection } from '@ulo/persistence';

/**
 * Liveness and readiness (SPEC §8). Ready means the database answers: that is what a 204 needs.
 * Kafka is reported but does not make the gateway unready, since logouts wait in the outbox.
 */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly database: DatabaseConnection,
    private readonly relay: OutboxRelay,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.db.pingCheck('database', { timeout: 1500 })]);
  }

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response) {
    res.setHeader('Cache-Control', 'no-store');
    const database = await this.database.ping().then(
      () => ({ status: 'up' as const }),
      (err: Error) => ({ status: 'down' as const, error: err.message }),
    );
    const problem = this.relay.problem;
    const kafka = problem === null ? { status: 'up' as const } : { status: 'down' as const, error: problem, fatal: false };
    const ok = database.status === 'up';
    res.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ok ? 'ok' : 'error', checks: { database, kafka } };
  }
}
