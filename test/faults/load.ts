import type { FakeIdp } from '@ulo/testing';
import { sleep } from '../../scripts/bench/processes';

/** One user the fake Okta logs out, and the RFC 9493 subject it names the user by. */
export interface LoadTarget {
  userId: string;
  subject: Record<string, string>;
}

/** What one request attempt got: an HTTP status, or the connection error it failed with. */
export interface Attempt {
  atMs: number;
  gateway: number;
  status: number | null;
  error: string | null;
}

export interface UserOutcome {
  userId: string;
  attempts: Attempt[];
  /** When the 204 arrived (ms since the run started); null if none did. */
  acceptedAtMs: number | null;
  /** A 4xx other than 429: Okta would not retry, the logout is lost. A test failure. */
  refused: { status: number; body: string } | null;
  /** Why the fake Okta stopped retrying without a 204 (attempts or time exhausted). */
  gaveUp: string | null;
}

export interface LoadOptions {
  /** Base URLs of the gateways; attempt k for user i goes to gateway (i + k) mod n, as a load balancer would. */
  gateways: string[];
  path: string;
  /** The GTR `aud`: PUBLIC_BASE_URL + path, the same at every gateway. */
  audience: string;
  idp: FakeIdp;
  targets: LoadTarget[];
  /** The clock the load follows, in seconds (the fault schedule's: it waits for late faults). */
  clock: () => number;
  /** User i's first request leaves at clock time i × seconds / users. */
  seconds: number;
  /** No attempt starts after this (epoch ms): the load is bounded in time as well as in count. */
  deadline: number;
  /** Epoch ms the run started; attempt times are relative to it. */
  runStartedAt: number;
}

/** Okta's side of a transient failure: wait, then retry with a fresh JWT. */
export const BACKOFF_FIRST_MS = 250;
export const BACKOFF_MAX_MS = 4000;
export const MAX_ATTEMPTS = 60;
const REQUEST_TIMEOUT_MS = 10_000;

/** Retries the fake Okta made, by what caused them. */
export interface RetryCounts {
  '5xx': number;
  '429': number;
  connection: number;
  /** The same, in detail and by gateway: `503 at gateway-1`, `ECONNREFUSED at gateway-2`, `timeout at ...` */
  detail: Record<string, number>;
}

/** The innermost cause of a failed fetch: ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, timeout, ... */
interface ErrorLike {
  name?: string;
  code?: string;
  cause?: ErrorLike;
  message?: string;
}

function errorName(err: unknown): string {
  let e = err as ErrorLike | undefined;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timeout';
  while (e?.cause) e = e.cause;
  return e?.code ?? e?.name ?? e?.message ?? 'unknown';
}

/**
 * A fake Okta sending one signed Global Token Revocation request per user, at a steady rate,
 * through two gateways. Like Okta it retries 5xx, 429 and connection errors with a fresh JWT (new
 * jti) after a doubling backoff, until it gets a 204; any other answer is final.
 */
export class OktaLoad {
  readonly outcomes: UserOutcome[];
  readonly retries: RetryCounts = { '5xx': 0, '429': 0, connection: 0, detail: {} };
  private finished: Promise<void> | null = null;

  constructor(private readonly options: LoadOptions) {
    this.outcomes = options.targets.map((t) => ({ userId: t.userId, attempts: [], acceptedAtMs: null, refused: null, gaveUp: null }));
  }

  /** Starts the load; `done()` resolves when every user has a final outcome. */
  start(): void {
    this.finished = this.release().then(() => undefined);
  }

  /** Releases the users at a steady rate of clock time: while the clock waits, so does the load. */
  private async release(): Promise<void[]> {
    const { targets, clock, seconds, deadline } = this.options;
    const running: Promise<void>[] = [];
    for (let i = 0; i < targets.length; i++) {
      const due = (i * seconds) / targets.length;
      while (clock() < due && Date.now() < deadline) await sleep(Math.min(250, Math.max(10, (due - clock()) * 1000)));
      running.push(this.logOut(targets[i], i, this.outcomes[i]));
    }
    return Promise.all(running);
  }

  /** Users whose first request has not been sent yet. */
  unsent(): number {
    return this.outcomes.filter((o) => o.attempts.length === 0).length;
  }

  done(): Promise<void> {
    if (!this.finished) throw new Error('the load has not started');
    return this.finished;
  }

  accepted(): number {
    return this.outcomes.filter((o) => o.acceptedAtMs !== null).length;
  }

  /** Users still waiting for their 204 (in flight or in backoff). */
  pending(): number {
    return this.outcomes.filter((o) => o.acceptedAtMs === null && o.refused === null && o.gaveUp === null).length;
  }

  private count(kind: '5xx' | '429' | 'connection', cause: string, gateway: number): void {
    this.retries[kind]++;
    const key = `${cause} at gateway-${gateway + 1}`;
    this.retries.detail[key] = (this.retries.detail[key] ?? 0) + 1;
  }

  private async logOut(target: LoadTarget, index: number, outcome: UserOutcome): Promise<void> {
    const { gateways, path, audience, idp, deadline, runStartedAt } = this.options;
    let backoff = BACKOFF_FIRST_MS;
    for (let k = 0; k < MAX_ATTEMPTS; k++) {
      if (Date.now() > deadline) {
        outcome.gaveUp = `load deadline passed after ${k} attempt(s)`;
        return;
      }
      const gateway = (index + k) % gateways.length;
      const attempt: Attempt = { atMs: Date.now() - runStartedAt, gateway, status: null, error: null };
      outcome.attempts.push(attempt);
      try {
        // A fresh JWT every time: a new jti, as Okta signs each retry anew.
        const jwt = await idp.sign({ audience });
        const res = await fetch(`${gateways[gateway]}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
          body: JSON.stringify({ sub_id: target.subject }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const body = await res.text();
        attempt.status = res.status;
        if (res.status === 204) {
          outcome.acceptedAtMs = Date.now() - runStartedAt;
          return;
        }
        if (res.status === 429) this.count('429', '429', gateway);
        else if (res.status >= 500) this.count('5xx', String(res.status), gateway);
        else {
          outcome.refused = { status: res.status, body: body.slice(0, 300) };
          return;
        }
      } catch (err) {
        attempt.error = errorName(err);
        this.count('connection', attempt.error, gateway);
      }
      await sleep(backoff);
      backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
    }
    outcome.gaveUp = `no 204 after ${MAX_ATTEMPTS} attempts`;
  }
}
