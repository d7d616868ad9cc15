import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export interface ReceivedLogout {
  at: number;
  logoutToken: string;
  contentType: string | undefined;
}

type Behaviour = (call: number, req: IncomingMessage) => number | 'hang';

/**
 * A relying party's back-channel logout endpoint on loopback, answering by script:
 * always 200, 503 twice then 200, 400, or never (hangs).
 */
export class RpReceiver {
  readonly received: ReceivedLogout[] = [];
  calls = 0;
  url = '';
  private server: Server | null = null;
  private readonly hanging = new Set<ServerResponse>();

  private constructor(private behaviour: Behaviour) {}

  static async start(behaviour: Behaviour = () => 200): Promise<RpReceiver> {
    const rp = new RpReceiver(behaviour);
    rp.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        rp.calls++;
        const token = new URLSearchParams(Buffer.concat(chunks).toString()).get('logout_token') ?? '';
        rp.received.push({ at: Date.now(), logoutToken: token, contentType: req.headers['content-type'] });
        const answer = rp.behaviour(rp.calls, req);
        if (answer === 'hang') {
          rp.hanging.add(res);
          return;
        }
        res.statusCode = answer;
        res.end();
      });
    });
    await new Promise<void>((resolve) => rp.server!.listen(0, '127.0.0.1', resolve));
    rp.url = `http://127.0.0.1:${(rp.server.address() as AddressInfo).port}/backchannel-logout`;
    return rp;
  }

  answer(behaviour: Behaviour): void {
    this.behaviour = behaviour;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
