import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { APP_CONFIG, LogStreamerConfig } from '@ulo/config';
import { METRICS_CONTENT_TYPE, metricsText } from '@ulo/messaging';
import { LogStreamerMetrics } from './log-streamer.metrics';

/**
 * `GET /metrics` (Prometheus text format) and `GET /health` on LOG_STREAMER_METRICS_HOST:PORT: the
 * same series as `/metrics` on the health port.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(MetricsServer.name);
  private server: Server | null = null;

  constructor(
    private readonly metrics: LogStreamerMetrics,
    @Inject(APP_CONFIG) private readonly config: LogStreamerConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.listen(this.config.logStreams.metricsPort, this.config.logStreams.metricsHost);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.close();
  }

  async listen(port: number, host: string): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/metrics') {
        metricsText([this.metrics.registry])
          .then((text) => {
            res.setHeader('content-type', METRICS_CONTENT_TYPE);
            res.end(text);
          })
          .catch((err: Error) => {
            res.statusCode = 500;
            res.end(`metrics unavailable: ${err.message}\n`);
          });
      } else if (req.method === 'GET' && req.url === '/health') {
        res.end('ok\n');
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    this.log.log(`metrics on http://${host}:${this.port}/metrics`);
  }

  /** The bound port (useful when configured as 0). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
