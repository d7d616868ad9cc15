import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, JWK, KeyLike, SignJWT } from 'jose';

/** One revocation request as Okta would send it: a signed JWT and the body naming one user. */
export interface SignedRequest {
  userId: string;
  authorization: string;
  body: string;
}

/** The user a request names: the identity seeded for it at the bench connection. */
export interface BenchSubject {
  userId: string;
  providerUserId: string;
}

/**
 * A stand-in for Okta on 127.0.0.1 for the benchmark: OIDC discovery and a JWKS with one RS256 key,
 * and Global Token Revocation JWTs signed the way Okta signs them (typ global-token-revocation+jwt,
 * iss, sub = client id, exact aud, unique jti, iat, nbf = iat - 300, exp = iat + 300).
 * (libs/testing has the same for the tests, but it is not part of the build the bench runs from.)
 */
export class BenchIdp {
  issuer = '';
  readonly clientId = `0oabench${randomBytes(6).toString('hex')}`;
  readonly kid = randomUUID();
  jwks: { keys: JWK[] } = { keys: [] };
  private privateKey!: KeyLike;
  private server: Server | null = null;

  static async start(): Promise<BenchIdp> {
    const idp = new BenchIdp();
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    idp.privateKey = privateKey;
    idp.jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: idp.kid, alg: 'RS256', use: 'sig' }] };
    idp.server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') {
        res.end(JSON.stringify({ issuer: idp.issuer, jwks_uri: `${idp.issuer}/oauth2/v1/keys` }));
      } else if (req.url === '/oauth2/v1/keys') {
        res.end(JSON.stringify(idp.jwks));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((resolve, reject) => {
      idp.server!.once('error', reject);
      idp.server!.listen(0, '127.0.0.1', resolve);
    });
    idp.issuer = `http://127.0.0.1:${(idp.server.address() as AddressInfo).port}`;
    return idp;
  }

  async sign(audience: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: this.issuer,
      sub: this.clientId,
      aud: audience,
      jti: randomUUID(),
      iat: now,
      nbf: now - 300,
      exp: now + 300,
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'global-token-revocation+jwt', kid: this.kid })
      .sign(this.privateKey);
  }

  /** One distinct token per subject, each for its own user (iss_sub, the format Auth0 and Okta share). */
  async signBatch(audience: string, subjects: BenchSubject[]): Promise<SignedRequest[]> {
    const out: SignedRequest[] = [];
    for (const s of subjects) {
      out.push({
        userId: s.userId,
        authorization: `Bearer ${await this.sign(audience)}`,
        body: JSON.stringify({ sub_id: { format: 'iss_sub', iss: this.issuer, sub: s.providerUserId } }),
      });
    }
    return out;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
