import { Registry, collectDefaultMetrics, register } from 'prom-client';

let collectingFor: string | null = null;

/**
 * Node's default metrics (CPU, memory, event loop lag, GC, handles) in the process registry, the
 * one every app's series are in, prefixed `ulo_<app>_` as the log-streamer's always were. Once per
 * process: the first app started names them (tests start several apps in one process).
 */
export function collectProcessMetrics(app: string): void {
  if (collectingFor !== null) return;
  collectingFor = app;
  collectDefaultMetrics({ register, prefix: `ulo_${app.replace(/-/g, '_')}_` });
}

/** The Prometheus text format (0.0.4) that `metricsText` answers in. */
export const METRICS_CONTENT_TYPE = register.contentType;

/**
 * `GET /metrics`: the process registry and `own` registries of the app (whose series have names
 * of their own) as one Prometheus text.
 */
export async function metricsText(own: readonly Registry[] = []): Promise<string> {
  const texts = await Promise.all([register, ...own].map((r) => r.metrics()));
  return texts.map((t) => t.trimEnd()).filter((t) => t.length > 0).join('\n') + '\n';
}
