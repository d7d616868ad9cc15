/**
 * The baseline of `npm run bench:gateway`: the least a Global Token Revocation endpoint must do per
 * request, on a bare Node `http` server. It reads the body, checks it names an iss_sub subject,
 * verifies the bearer JWT with jose against a local key set (signature, typ, iss, sub, aud, exp,
 * nbf, iat, lifetime), refuses a replayed jti from memory, and answers 204. No framework, no
 * database, no Kafka: the gateway's throughput is compared with this.
 *
 * Environment (set by scripts/bench/gateway.bench.ts, which runs it as its own process):
 *   BENCH_BARE_PORT, BENCH_JWKS (JSON), BENCH_ISSUER, BENCH_CLIENT_ID, BENCH_PATH
 */
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { createLocalJWKSet, jwtVerify } from 'jose';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`bare-gtr-server: ${name} is required\n`);
    process.exit(64);
  }
  return value;
}

const port = Number(required('BENCH_BARE_PORT'));
const keys = createLocalJWKSet(JSON.parse(required('BENCH_JWKS')));
const issuer = required('BENCH_ISSUER');
const clientId = required('BENCH_CLIENT_ID');
const path = required('BENCH_PATH');
const audience = `http://127.0.0.1:${port}${path}`;
const seenJtis = new Set<string>();
const BODY_LIMIT_BYTES = 16 * 1024;

function answer(res: ServerResponse, status: number): void {
  res.statusCode = status;
  res.end();
}

function namesIssSub(body: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false;
  }
  const subId = (parsed as { sub_id?: Record<string, unknown> } | null)?.sub_id;
  return (
    typeof subId === 'object' &&
    subId !== null &&
    subId.format === 'iss_sub' &&
    typeof subId.iss === 'string' &&
    typeof subId.sub === 'string'
  );
}

async function handle(req: IncomingMessage, body: string, res: ServerResponse): Promise<void> {
  if (req.method === 'GET' && req.url === '/health') return answer(res, 200);
  if (req.method !== 'POST' || req.url !== path) return answer(res, 404);
  if (!namesIssSub(body)) return answer(res, 400);
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  if (!bearer) return answer(res, 401);
  try {
    const { payload } = await jwtVerify(bearer, keys, {
      algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
      typ: 'global-token-revocation+jwt',
      issuer,
      subject: clientId,
      audience,
      clockTolerance: 60,
      maxTokenAge: '15m',
      requiredClaims: ['exp', 'iat', 'jti'],
    });
    const jti = payload.jti as string;
    if (seenJtis.has(jti)) return answer(res, 401);
    seenJtis.add(jti);
    answer(res, 204);
  } catch {
    answer(res, 401);
  }
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= BODY_LIMIT_BYTES) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > BODY_LIMIT_BYTES) return answer(res, 413);
    handle(req, Buffer.concat(chunks).toString('utf8'), res).catch(() => answer(res, 500));
  });
});

server.listen(port, '127.0.0.1');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
