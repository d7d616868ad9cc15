import { createServer, IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import type { LogStreamEnvelope } from '@ulo/contracts';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  /** The envelopes the body carried, whatever its format. */
  envelopes: LogStreamEnvelope[];
}

/** How the receiver answers: a status code, or 'hang' (never answers until closed or told otherwise). */
export type LogReceiverAnswer = number | 'hang';

/**
 * A log stream's webhook receiver on loopback (a SIEM, a Slack relay…). Records every request and
 * the envelopes in it; answers by script; can go down (connections refused) and come back on the
 * same port.
 */
export class LogReceiver {
  readonly requests: ReceivedRequest[] = [];
  url = '';
  private port = 0;
  private server: Server | null = null;
  private readonly hanging = new Set<ServerResponse>();

  private constructor(private answer: LogReceiverAnswer) {}

  static async start(answer: LogReceiverAnswer = 200): Promise<LogReceiver> {
    const receiver = new LogReceiver(answer);
    await receiver.up();
    receiver.url = `http://127.0.0.1:${receiver.port}/logs`;
    return receiver;
  }

  /** Every envelope received, in arrival order, duplicates included. */
  get envelopes(): LogStreamEnvelope[] {
    return this.requests.flatMap((r) => r.envelopes);
  }

  get logIds(): string[] {
    return this.envelopes.map((e) => e.log_id);
  }

  get distinctLogIds(): Set<string> {
    return new Set(this.logIds);
  }

  /** Requests received and not answered yet. */
  get open(): number {
    return this.hanging.size;
  }

  answerWith(answer: LogReceiverAnswer): void {
    this.answer = answer;
    if (answer === 'hang') return;
    for (const res of this.hanging) {
      res.statusCode = answer;
      res.end();
    }
    this.hanging.clear();
  }

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ headers: req.headers, body, envelopes: parseEnvelopes(body) });
        if (this.answer === 'hang') {
          this.hanging.add(res);
          res.on('close', () => this.hanging.delete(res));
          return;
        }
        res.statusCode = this.answer;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening: deliveries meet a refused connection until `up()`. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  close(): Promise<void> {
    return this.down();
  }
}

/** JSONARRAY: an array; JSONOBJECT: one object; JSONLINES: one object per line. */
function parseEnvelopes(body: string): LogStreamEnvelope[] {
  const text = body.trim();
  if (text === '') return [];
  if (text.startsWith('[')) return JSON.parse(text) as LogStreamEnvelope[];
  return text.split('\n').map((line) => JSON.parse(line) as LogStreamEnvelope);
}
