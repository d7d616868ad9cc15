import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import type { SignedRequest } from './fake-idp';

/** Nearest-rank percentile of ascending values (Infinity stands for "never"). */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export interface LoadFigures {
  sent: number;
  accepted: number;
  non204: number;
  errors: number;
  seconds: number;
  acceptedPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  statuses: Record<string, number>;
}

/**
 * Closed-loop throughput: `connections` keep-alive connections, each sending its next request as
 * soon as the previous one is answered; every pre-signed request is sent exactly once.
 */
export async function throughputRun(
  origin: string,
  path: string,
  batch: SignedRequest[],
  connections: number,
  maxSeconds: number,
): Promise<LoadFigures> {
  let next = 0;
  let overflow = 0;
  // autocannon notices the end of a run on its 1 s sampling tick, so the phase is timed from the
  // first request built to the last answer received rather than around the whole call.
  let firstSent = 0;
  let lastAnswer = 0;
  const take = (): SignedRequest => {
    if (next === 0) firstSent = performance.now();
    if (next >= batch.length) overflow++;
    return batch[Math.min(next++, batch.length - 1)];
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: origin,
        connections: Math.min(connections, batch.length),
        pipelining: 1,
        amount: batch.length,
        timeout: 30,
        requests: [
          {
            method: 'POST',
            path,
            setupRequest: (req) => {
              const r = take();
              return {
                ...req,
                headers: { ...req.headers, 'content-type': 'application/json', authorization: r.authorization },
                body: r.body,
              };
            },
            onResponse: () => {
              lastAnswer = performance.now();
            },
          },
        ],
      },
      (err, res) => {
        clearTimeout(guard);
        if (err) reject(err);
        else resolve(res);
      },
    );
    // A bound on time as well as on count: a stuck server ends the phase, it does not hang it.
    const guard = setTimeout(() => instance.stop(), maxSeconds * 1000);
  });
  const seconds = Math.max(0.001, (lastAnswer - firstSent) / 1000);
  const statuses: Record<string, number> = {};
  let answered = 0;
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) {
    statuses[code] = count;
    answered += count;
  }
  const accepted = statuses['204'] ?? 0;
  if (overflow > 0) statuses['re-sent (token replayed)'] = overflow;
  return {
    sent: result.requests.sent ?? answered,
    accepted,
    non204: answered - accepted,
    errors: result.errors,
    seconds,
    acceptedPerSecond: accepted / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    statuses,
  };
}

export interface PacedOutcome {
  userId: string;
  status: number | null;
  /** Epoch milliseconds (sub-millisecond precision) when the answer arrived. */
  answeredAt: number | null;
  latencyMs: number | null;
}

export interface PacedFigures extends LoadFigures {
  targetRate: number;
  outcomes: PacedOutcome[];
  /** Requests that were due but not sent because the time bound ran out. */
  unsent: number;
}

const epochNow = () => performance.timeOrigin + performance.now();

/**
 * Open-loop load at a fixed rate: request i leaves at t0 + i/rate whatever happened to the earlier
 * ones (autocannon's overallRate sends each second's quota in a burst at the start of the second,
 * which is not a steady 500/s). Records when each answer arrived, to match it with the database.
 */
export async function pacedRun(
  origin: string,
  path: string,
  batch: SignedRequest[],
  rate: number,
  maxConnections: number,
  maxSeconds: number,
): Promise<PacedFigures> {
  const pool = new Pool(origin, { connections: maxConnections, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const outcomes: PacedOutcome[] = batch.map((r) => ({ userId: r.userId, status: null, answeredAt: null, latencyMs: null }));
  const inFlight: Promise<void>[] = [];
  let errors = 0;
  const fire = (i: number) => {
    const r = batch[i];
    const sentAt = performance.now();
    inFlight.push(
      pool
        .request({
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json', authorization: r.authorization },
          body: r.body,
        })
        .then(async (res) => {
          await res.body.dump();
          const now = performance.now();
          outcomes[i].status = res.statusCode;
          outcomes[i].answeredAt = performance.timeOrigin + now;
          outcomes[i].latencyMs = now - sentAt;
        })
        .catch(() => {
          errors++;
        }),
    );
  };
  const interval = 1000 / rate;
  const t0 = performance.now() + 20;
  const startedEpoch = epochNow() + 20;
  const deadline = t0 + maxSeconds * 1000;
  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (i < batch.length && t0 + i * interval <= now) fire(i++);
      if (i >= batch.length || now > deadline) return resolve();
      setTimeout(tick, Math.max(0, t0 + i * interval - performance.now()));
    };
    setTimeout(tick, 20);
  });
  const sendingSeconds = (performance.now() - t0) / 1000;
  // Answers still owed are waited for within the same time bound; the rest are abandoned as errors.
  const left = Math.max(1000, deadline + 30_000 - performance.now());
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    Promise.all(inFlight).then(() => true),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), left);
    }),
  ]);
  clearTimeout(timer);
  if (settled) await pool.close();
  else await pool.destroy();
  const done = outcomes.slice(0, i).filter((o) => o.status !== null);
  const accepted = done.filter((o) => o.status === 204);
  const latencies = done.map((o) => o.latencyMs as number).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const o of done) statuses[String(o.status)] = (statuses[String(o.status)] ?? 0) + 1;
  const lastAnswer = Math.max(startedEpoch, ...done.map((o) => o.answeredAt as number));
  const seconds = Math.max(sendingSeconds, (lastAnswer - startedEpoch) / 1000);
  return {
    targetRate: rate,
    sent: i,
    unsent: batch.length - i,
    accepted: accepted.length,
    non204: done.length - accepted.length,
    errors,
    seconds,
    acceptedPerSecond: accepted.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    statuses,
    outcomes: outcomes.slice(0, i),
  };
}
