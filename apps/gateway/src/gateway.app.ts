import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { GatewayConfig } from '@ulo/config';
import { collectProcessMetrics } from '@ulo/messaging';
import { serveConsole } from './console/serve-console';
import { GatewayModule } from './gateway.module';

/** Builds the gateway; main.ts and the tests share it so they run the same wiring. */
export async function createGateway(config: GatewayConfig): Promise<INestApplication> {
  collectProcessMetrics('gateway');
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.set('trust proxy', 'loopback');
  app.set('x-powered-by', false);
  app.enableShutdownHooks();
  serveConsole(app, config.console.dir);
  const openapi = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('universal-logout')
      .setDescription('Global Token Revocation endpoint, discovery and the Management API (/api/v2).')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('api/docs', app, openapi, { jsonDocumentUrl: 'api/openapi.json' });
  return app;
}
