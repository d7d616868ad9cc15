import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Agent, request } from 'undici';
import { OutboundRequestException, Resolver, SafeHttpClient, safeConnector, UnsafeUrlException } from '@ulo/security';

/** A loopback HTTP server that counts the TCP connections it accepted. */
interface TestServer {
  url: string;
  port: number;
  connections: number;
  close(): Promise<void>;
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer(handler);
  const state = { connections: 0 };
  server.on('connection', (socket: Socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get connections() {
      return state.connections;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const json = (body: unknown) => (_req: IncomingMessage, res: ServerResponse) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
};

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('SafeHttpClient (SPEC §4 outbound rules, on loopback)', () => {
  const servers: TestServer[] = [];
  const clients: SafeHttpClient[] = [];
  const start = async (handler: (req: IncomingMessage, res: ServerResponse) => void) => {
    const s = await serve(handler);
    servers.push(s);
    return s;
  };
  const client = (allowPrivate: boolean, timeoutMs = 1000) => {
    const c = new SafeHttpClient(allowPrivate, timeoutMs, 4);
    clients.push(c);
    return c;
  };
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    for (const s of servers.splice(0)) await s.close();
  });

  describe('one deadline for the whole exchange', () => {
    it('cuts a server that sends its headers, then one byte at a time, at the deadline', async () => {
      const timers: NodeJS.Timeout[] = [];
      const slow = await start((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{');
        timers.push(setInterval(() => res.write(' '), 300));
      });
      const started = Date.now();
      const err = await failure(client(true, 1000).getJson(`${slow.url}/keys`));
      const elapsed = Date.now() - started;
      timers.forEach(clearInterval);
      expect(err).toBeInstanceOf(OutboundRequestException);
      expect((err as OutboundRequestException).code).toBe('ETIMEDOUT');
      expect(elapsed).toBeGreaterThanOrEqual(950);
      expect(elapsed).toBeLessThan(1600);
    });

    it('cuts a server that never answers at the deadline', async () => {
      const silent = await start(() => undefined);
      const started = Date.now();
      const err = await failure(client(true, 800).getJson(`${silent.url}/keys`));
      expect((err as OutboundRequestException).code).toBe('ETIMEDOUT');
      expect(Date.now() - started).toBeLessThan(1400);
    });
  });

  describe('body cap', () => {
    const big = { keys: [], padding: 'x'.repeat(300 * 1024) };

    it('refuses a JSON document over the cap, declared by content-length, without reading it', async () => {
      const s = await start(json(big));
      const err = await failure(client(true).getJson(`${s.url}/keys`, { maxBodyBytes: 256 * 1024 }));
      expect((err as OutboundRequestException).code).toBe('EBODYTOOLARGE');
    });

    it('refuses a chunked JSON document once it passes the cap', async () => {
      const s = await start((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const text = JSON.stringify(big);
        for (let i = 0; i < text.length; i += 16 * 1024) res.write(text.slice(i, i + 16 * 1024));
        res.end();
      });
      const res = await client(true).send('GET', `${s.url}/keys`, { maxBodyBytes: 256 * 1024 });
      expect(res.truncated).toBe(true);
      expect(res.body.length).toBeLessThanOrEqual(256 * 1024);
      const err = await failure(client(true).getJson(`${s.url}/keys`, { maxBodyBytes: 256 * 1024 }));
      expect((err as OutboundRequestException).code).toBe('EBODYTOOLARGE');
    });

    it('reads a document under the cap whole', async () => {
      const s = await start(json({ keys: [], padding: 'x'.repeat(200 * 1024) }));
      const doc = await client(true).getJson<{ padding: string }>(`${s.url}/keys`, { maxBodyBytes: 256 * 1024 });
      expect(doc.padding).toHaveLength(200 * 1024);
    });
  });

  it('does not follow a redirect', async () => {
    const target = await start(json({ keys: [] }));
    const redirecting = await start((_req, res) => {
      res.writeHead(302, { location: `${target.url}/keys` });
      res.end();
    });
    const err = await failure(client(true).getJson(`${redirecting.url}/keys`));
    expect((err as OutboundRequestException).code).toBe('EREDIRECT');
    expect(redirecting.connections).toBe(1);
    expect(target.connections).toBe(0);
  });

  describe('private addresses, production mode', () => {
    it.each([
      ['http:', (port: number) => `http://127.0.0.1:${port}/keys`],
      ['a loopback IP literal', (port: number) => `https://127.0.0.1:${port}/keys`],
      ['a decimal loopback literal', (port: number) => `https://2130706433:${port}/keys`],
      ['the unspecified address', (port: number) => `https://0.0.0.0:${port}/keys`],
      ['an IPv4-mapped IPv6 literal', (port: number) => `https://[::ffff:127.0.0.1]:${port}/keys`],
      ['localhost', (port: number) => `https://localhost:${port}/keys`],
    ])('refuses %s before any connection', async (_what, urlOf) => {
      const s = await start(json({ keys: [] }));
      const err = await failure(client(false).getJson(urlOf(s.port)));
      expect(err).toBeInstanceOf(UnsafeUrlException);
      expect(s.connections).toBe(0);
    });

    it('checks IP literals at connect time too, for any request through its connector', async () => {
      const s = await start(json({ keys: [] }));
      const agent = new Agent({ connect: safeConnector(false, 1000) });
      try {
        const err = await failure(request(`${s.url}/keys`, { dispatcher: agent }));
        expect((err as NodeJS.ErrnoException).code).toBe('EPRIVATEADDRESS');
        expect(s.connections).toBe(0);
      } finally {
        await agent.close();
      }
    });

    it('resolves a name, checks the address and connects to exactly that address', async () => {
      const s = await start(json({ keys: [] }));
      // A name no real DNS knows: the only way to reach the server is the address the resolver gave.
      const resolver: Resolver = (_host, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]);
      const production = new Agent({ connect: safeConnector(false, 1000, resolver) });
      const development = new Agent({ connect: safeConnector(true, 1000, resolver) });
      try {
        const err = await failure(request(`http://keys.invalid:${s.port}/keys`, { dispatcher: production }));
        expect((err as NodeJS.ErrnoException).code).toBe('EPRIVATEADDRESS');
        expect(s.connections).toBe(0);
        const res = await request(`http://keys.invalid:${s.port}/keys`, { dispatcher: development });
        expect(await res.body.json()).toEqual({ keys: [] });
        expect(s.connections).toBe(1);
      } finally {
        await production.close();
        await development.close();
      }
    });
  });
});
