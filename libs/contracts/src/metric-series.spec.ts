import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetricSeries, MetricSpec } from './metric-series';

interface Target {
  expr: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
}

const DASHBOARD = join(__dirname, '../../../deploy/grafana/universal-logout.json');
const specs: MetricSpec[] = Object.values(MetricSeries);

/** The series names a PromQL expression may read for `spec`: a histogram's also by bucket, sum and count. */
function namesOf(spec: MetricSpec): string[] {
  return spec.type === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => spec.name + s) : [spec.name];
}

/** Label names a series may be selected by: its own, `le` for a bucket, and what Prometheus adds. */
function selectableLabels(spec: MetricSpec, name: string): string[] {
  return [...spec.labelNames, ...(name.endsWith('_bucket') ? ['le'] : []), 'job', 'instance'];
}

const byName = new Map(specs.flatMap((spec) => namesOf(spec).map((name) => [name, spec] as const)));

describe('the metric catalogue', () => {
  it('names each series once, under ulo_, with the suffix its type calls for', () => {
    expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
    for (const spec of specs) {
      expect(spec.name).toMatch(/^ulo_[a-z0-9_]+$/);
      if (spec.type === 'counter') expect(spec.name).toMatch(/_total$/);
      if (spec.type === 'histogram') expect(spec.name).toMatch(/_seconds$/);
    }
  });
});

describe('the Grafana dashboard (deploy/grafana/universal-logout.json)', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    title: string;
    uid: string;
    schemaVersion: number;
    templating: { list: { name: string; type: string; query: string }[] };
    panels: Panel[];
  };
  const targets = dashboard.panels.flatMap((p) => p.targets ?? []);

  it('is a dashboard model with a Prometheus data source variable that every panel and query uses', () => {
    expect(dashboard).toMatchObject({ title: expect.any(String), uid: expect.any(String), schemaVersion: expect.any(Number) });
    const variable = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(variable).toMatchObject({ query: 'prometheus' });
    const uid = `\${${variable!.name}}`;
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const panel of dashboard.panels) expect(panel.datasource).toEqual({ type: 'prometheus', uid });
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) expect(target.datasource?.uid).toBe(uid);
  });

  it('reads only series the apps define, by labels they have', () => {
    for (const { expr } of targets) {
      const names = expr.match(/\bulo_[a-z0-9_]+/g) ?? [];
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) expect({ expr, name, known: byName.has(name) }).toEqual({ expr, name, known: true });
      for (const [, name, selector] of expr.matchAll(/\b(ulo_[a-z0-9_]+)\{([^}]*)\}/g)) {
        const labels = [...selector.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]);
        for (const label of labels) expect(selectableLabels(byName.get(name)!, name)).toContain(label);
      }
    }
  });

  it('shows acceptance, latency, the relay backlog, consumer lag, step duration, deliveries and stream lag', () => {
    const read = new Set(targets.flatMap((t) => t.expr.match(/\bulo_[a-z0-9_]+/g) ?? []).map((name) => byName.get(name)!.name));
    const { gtrRequests, gtrAcceptanceDuration, outboxBacklog, consumerLag, logoutStepDuration, backchannelDeliveries, logStreamLag } =
      MetricSeries;
    for (const spec of [gtrRequests, gtrAcceptanceDuration, outboxBacklog, consumerLag, logoutStepDuration, backchannelDeliveries, logStreamLag]) {
      expect(read).toContain(spec.name);
    }
  });
});
