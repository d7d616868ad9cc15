import { ArgumentsHost, Catch, HttpException, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Response } from 'express';
import { DatabaseConnection } from '@ulo/persistence';
import { isTransient } from '@ulo/resilience';

/** Seconds a caller is asked to wait while PostgreSQL (or another dependency) is unreachable. */
const RETRY_AFTER_SECONDS = 5;

/**
 * SPEC §8: while a dependency is unreachable the Management API answers 503 with Retry-After,
 * not 500; every other error keeps Nest's own answer.
 */
@Catch()
export class TransientErrorFilter extends BaseExceptionFilter {
  private readonly log = new Logger(TransientErrorFilter.name);

  constructor(private readonly database: DatabaseConnection) {
    super();
  }

  override catch(err: unknown, host: ArgumentsHost): void {
    // Until the first connection TypeORM fails with errors of its own ("No metadata for …").
    const unavailable = isTransient(err) || (!(err instanceof HttpException) && !this.database.isConnected);
    if (host.getType() !== 'http' || !unavailable) return super.catch(err, host);
    this.log.warn(`answered 503: ${(err as Error)?.message ?? String(err)}`);
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(503).json({ statusCode: 503, error: 'Service Unavailable', message: 'the database is unavailable; retry later' });
  }
}
