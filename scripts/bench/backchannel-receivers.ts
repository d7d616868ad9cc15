import { createServer, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One logout token as a receiver saw it: when it arrived and the claims the bench checks. */
export interface Arrival {
  /** Index of the receiving app, 0-based. */
  app: number;
  /** Epoch milliseconds with sub-millisecond precision (same clock as the bench's 204). */
  at: number;
  sid: string | null;
  aud: string | null;
  sub: string | null;
  jti: string | null;
  /** The protected header's `alg` (RS256, ES256, EdDSA), decoded without verifying the signature. */
  alg: string | null;
  /** The raw token, kept only for the first few arrivals of each app (verified with jose later). */
  token?: string;
}

export type ReceiverMode = 'ok' | 'hang';

const epochNow = () => performance.timeOrigin + performance.now();

/** The header and payload of a JWT, decoded without verifying it; nulls when it is not a JWT. */
function partsOf(token: string): { header: Record<string, unknown> | null; claims: Record<string, unknown> | null } {
  const parts = token.split('.');
  if (parts.length !== 3) return { header: null, claims: null };
  const decode = (part: string) => {
    try {
      return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return null;
    }
  };
  return { header: decode(parts[0]), claims: decode(parts[1]) };
}

const str = (v: unknown) => (typeof v === 'string' ? v : null);

/**
 * The relying parties' back-channel logout endpoints for the benchmark: one node:http server per app
 * on 127.0.0.1, all in this process. Each records every POST it gets (arrival time, the token's
 * sid/aud/sub/jti and its header's alg, decoded without verification) and answers 200 at once, or, in mode `hang`,
 * never answers (the connection stays open until the dispatcher gives up on it).
 */
export class BackchannelReceivers {
  readonly arrivals: Arrival[] = [];
  readonly urls: string[] = [];
  private readonly servers: Server[] = [];
  private readonly modes: ReceiverMode[] = [];
  private readonly held = new Set<ServerResponse>();
  private readonly tokensKept: number[] = [];
  private countBySub = new Map<string, number[]>();

  private constructor(private readonly keepTokensPerApp: number) {}

  static async start(count: number, keepTokensPerApp = 3): Promise<BackchannelReceivers> {
    const r = new BackchannelReceivers(keepTokensPerApp);
    for (let app = 0; app < count; app++) {
      r.modes.push('ok');
      r.tokensKept.push(0);
      const server = createServer((req, res) => r.handle(app, req, res));
      // Keep-alive as a real app would; the dispatcher's agent reuses connections.
      server.keepAliveTimeout = 30_000;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      r.servers.push(server);
      r.urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}/backchannel-logout`);
    }
    return r;
  }

  private handle(app: number, req: import('node:http').IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = epochNow();
      const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('logout_token') ?? '';
      const { header, claims } = partsOf(token);
      const arrival: Arrival = {
        app,
        at,
        sid: str(claims?.sid),
        aud: str(claims?.aud),
        sub: str(claims?.sub),
        jti: str(claims?.jti),
        alg: str(header?.alg),
      };
      if (this.tokensKept[app] < this.keepTokensPerApp) {
        this.tokensKept[app]++;
        arrival.token = token;
      }
      this.arrivals.push(arrival);
      const key = arrival.sub ?? '';
      let counts = this.countBySub.get(key);
      if (!counts) this.countBySub.set(key, (counts = new Array<number>(this.servers.length).fill(0)));
      counts[app]++;
      if (this.modes[app] === 'hang') {
        this.held.add(res);
        res.once('close', () => this.held.delete(res));
        return;
      }
      res.statusCode = 200;
      res.setHeader('cache-control', 'no-store');
      res.end();
    });
  }

  setMode(app: number, mode: ReceiverMode): void {
    this.modes[app] = mode;
  }

  /** POSTs received so far for one subject (user), per app. */
  countsFor(sub: string): number[] {
    return [...(this.countBySub.get(sub) ?? new Array<number>(this.servers.length).fill(0))];
  }

  /** Arrivals for one subject; token samples are kept per app across subjects, so reset them first. */
  arrivalsFor(sub: string): Arrival[] {
    return this.arrivals.filter((a) => a.sub === sub);
  }

  /** Forgets what was received (between runs) and starts keeping token samples again. */
  reset(): void {
    this.arrivals.length = 0;
    this.countBySub = new Map();
    this.tokensKept.fill(0);
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.held.clear();
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.closeAllConnections();
            s.close(() => resolve());
          }),
      ),
    );
  }
}
