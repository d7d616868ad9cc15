import { Logger } from '@nestjs/common';
import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { METRICS_CONTENT_TYPE, metricsText } from './process-metrics';

/** A readiness check: resolves when healthy, rejects with what is wrong. */
export type HealthCheck = () => Promise<void>;

/**
 * `GET /health/live` (the process runs its event loop), `GET /health/ready` (every check passes:
 * 200, else 503 with what failed) and `GET /metrics` (Prometheus: the process registry and the
 * app's `own` registries) on a port of its own, for the apps without an HTTP API.
 */
export class HealthServer {
  private readonly log = new Logger(HealthServer.name);
  private server: Server | null = null;

  constructor(
    private readonly checks: Record<string, HealthCheck>,
    private readonly own: readonly Registry[] = [],
  ) {}

  async listen(port: number, host: string): Promise<void> {
    const server = createServer((req, res) => {
      const reply = (status: number, body: unknown) => {
        res.statusCode = status;
        res.setHeader('content-type', 'application/json');
        res.setHeader('cache-control', 'no-store');
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'GET') return reply(405, { status: 'error', error: 'method not allowed' });
      if (req.url === '/health/live') return reply(200, { status: 'ok' });
      if (req.url === '/health/ready') {
        void this.ready().then(({ ok, checks }) => reply(ok ? 200 : 503, { status: ok ? 'ok' : 'error', checks }));
        return;
      }
      if (req.url === '/metrics') {
        metricsText(this.own).then(
          (text) => {
            res.setHeader('content-type', METRICS_CONTENT_TYPE);
            res.setHeader('cache-control', 'no-store');
            res.end(text);
          },
          (err: Error) => reply(500, { status: 'error', error: `metrics unavailable: ${err.message}` }),
        );
        return;
      }
      reply(404, { status: 'error', error: 'not found' });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.log.log(`health on http://${host}:${this.port}/health/ready`);
  }

  /** Runs every check; each reports "up" or why it is down. */
  async ready(): Promise<{ ok: boolean; checks: Record<string, { status: 'up' | 'down'; error?: string }> }> {
    const names = Object.keys(this.checks);
    const results = await Promise.allSettled(names.map((n) => this.checks[n]()));
    const checks: Record<string, { status: 'up' | 'down'; error?: string }> = {};
    results.forEach((r, i) => {
      checks[names[i]] = r.status === 'fulfilled' ? { status: 'up' } : { status: 'down', error: String((r.reason as Error)?.message ?? r.reason) };
    });
    return { ok: results.every((r) => r.status === 'fulfilled'), checks };
  }

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
