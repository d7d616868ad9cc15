/**
 * bench:logs' webhook, in a worker thread of the bench: a receiver of its own, not one that waits
 * while the bench's main thread publishes (100,000 events built and sent at full speed held it
 * for the first seconds, a third of a second per delivery step). Counts the envelopes of each
 * JSONARRAY request; answers the main thread's `count` messages with the distinct and the total.
 */
import { createServer } from 'node:http';
import { parentPort } from 'node:worker_threads';

const port = parentPort;
if (!port) throw new Error('log-webhook.worker runs as a worker thread');

const ids = new Set<string>();
let received = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    for (const e of JSON.parse(Buffer.concat(chunks).toString('utf8')) as { log_id: string }[]) {
      ids.add(e.log_id);
      received++;
    }
    res.end();
  });
});

port.on('message', (message: { kind: 'count' } | { kind: 'close' }) => {
  if (message.kind === 'count') port.postMessage({ kind: 'count', distinct: ids.size, received });
  else {
    server.closeAllConnections();
    server.close(() => port.postMessage({ kind: 'closed' }));
  }
});

server.listen(0, '127.0.0.1', () => port.postMessage({ kind: 'listening', port: (server.address() as { port: number }).port }));
