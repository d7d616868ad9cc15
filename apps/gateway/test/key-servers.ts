import { createServer as createHttpServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo, createServer as createTcpServer, Server, Socket } from 'node:net';

/**
 * A TCP listener on loopback that accepts nothing but a count: a URL that must be refused before
 * any socket is opened points here, and the count proves that no connection was made.
 */
export interface ConnectionTrap {
  port: number;
  readonly connections: number;
  close(): Promise<void>;
}

export async function startConnectionTrap(): Promise<ConnectionTrap> {
  const state = { connections: 0 };
  const server: Server = createTcpServer((socket) => {
    state.connections++;
    socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return state.connections;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * An identity provider on loopback whose every path is scripted by the test: discovery documents,
 * key sets, redirects, oversized or trickling answers.
 */
export class KeyServer {
  base = '';
  private readonly routes = new Map<string, Handler>();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private server = createHttpServer((req, res) => {
    const handler = this.routes.get(req.url ?? '');
    if (handler) return handler(req, res);
    res.statusCode = 404;
    res.end();
  });

  static async start(): Promise<KeyServer> {
    const ks = new KeyServer();
    ks.server.on('connection', (socket: Socket) => {
      ks.sockets.add(socket);
      socket.on('close', () => ks.sockets.delete(socket));
    });
    await new Promise<void>((r) => ks.server.listen(0, '127.0.0.1', r));
    ks.base = `http://127.0.0.1:${(ks.server.address() as AddressInfo).port}`;
    return ks;
  }

  route(path: string, handler: Handler): string {
    this.routes.set(path, handler);
    return `${this.base}${path}`;
  }

  /** An issuer at `${base}/${name}` whose discovery document names `jwksUri`. */
  issuer(name: string, jwksUri: string): string {
    const issuer = `${this.base}/${name}`;
    this.route(`/${name}/.well-known/openid-configuration`, json({ issuer, jwks_uri: jwksUri }));
    return issuer;
  }

  /** Headers at once, then one byte every `intervalMs`, for ever: a body that never ends. */
  trickle(intervalMs: number): Handler {
    return (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      const timer = setInterval(() => res.write(' '), intervalMs);
      this.timers.add(timer);
      res.on('close', () => {
        clearInterval(timer);
        this.timers.delete(timer);
      });
    };
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export const json =
  (body: unknown, status = 200): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

export const redirect =
  (location: string): Handler =>
  (_req, res) => {
    res.writeHead(302, { location });
    res.end();
  };
