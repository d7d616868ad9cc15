import { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GatewayConfig } from '@ulo/config';
import { TEST_MANAGEMENT_TOKEN, gatewayTestConfig, truncateAll } from '@ulo/testing';
import { createGateway } from '../src/gateway.app';

export interface RunningGateway {
  app: INestApplication;
  config: GatewayConfig;
  baseUrl: string;
  dataSource: DataSource;
  /** Management API call with the test token unless `token` is given (null: no header). */
  api(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** The real gateway on a loopback port, against the run's PostgreSQL and Kafka. */
export async function startGateway(overrides: Record<string, string> = {}): Promise<RunningGateway> {
  const provisional = gatewayTestConfig(overrides);
  const app = await createGateway(provisional);
  await app.listen(Number(overrides.PORT ?? 0), '127.0.0.1');
  const port = (app.getHttpServer().address() as { port: number }).port;
  const baseUrl = `http://127.0.0.1:${port}`;
  const dataSource = app.get(DataSource);
  await truncateAll(dataSource);
  return {
    app,
    config: provisional,
    baseUrl,
    dataSource,
    async api(method, path, body, token = TEST_MANAGEMENT_TOKEN) {
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: keep the text */
      }
      return { status: res.status, body: parsed };
    },
    close: () => app.close(),
  };
}
