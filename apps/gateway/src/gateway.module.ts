import { DynamicModule, MiddlewareConsumer, Module, NestModule, RequestMethod, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { json } from 'express';
import { GatewayConfig, ConfigModule } from '@ulo/config';
import { MessagingModule } from '@ulo/messaging';
import { PersistenceModule } from '@ulo/persistence';
import { HealthController } from './health/health.controller';
import { MetricsController } from './health/metrics.controller';
import { TransientErrorFilter } from './health/transient-error.filter';
import { DiscoveryModule } from './discovery/discovery.module';
import { ManagementModule } from './management/management.module';
import { RetentionModule } from './retention/retention.module';
import { RevocationModule } from './revocation/revocation.module';
import { SsfModule } from './ssf/ssf.module';

@Module({})
export class GatewayModule implements NestModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            autoLogging: { ignore: (req) => /^\/(health|metrics)(\/|$)/.test(req.url ?? '') },
            redact: ['req.headers.authorization'],
          },
          // The revocation and SET push endpoints' hot paths get no per-request child logger or context
          // store; their rejections are in the log events (SPEC §5) and their acceptances logged at debug.
          exclude: [
            { method: RequestMethod.POST, path: 'oauth/global-token-revocation/connection/:connectionName' },
            { method: RequestMethod.POST, path: 'ssf/push/connection/:connectionName' },
          ],
        }),
        PersistenceModule.forRoot(),
        MessagingModule.forRoot('gateway'),
        TerminusModule,
        RevocationModule,
        SsfModule,
        ManagementModule,
        DiscoveryModule,
        RetentionModule,
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: APP_FILTER, useClass: TransientErrorFilter },
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
        },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // The Management API takes JSON; the revocation and SET push endpoints parse their own bodies (limits, media types).
    consumer.apply(json({ limit: '256kb' })).forRoutes('api/v2/*path');
  }
}
