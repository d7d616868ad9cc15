import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { generate as selfSigned } from 'selfsigned';
import { KeyRing, type SigningKey } from './key-ring';

export interface RevocationTokenOptions {
  audience: string;
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  /** Sign with this key instead of the current one (e.g. a key the IdP never published). */
  key?: SigningKey;
  /** Leave out `kid` (the SAML path: the key comes from the signing certificate). */
  omitKid?: boolean;
}


/**
 * A stand-in for Okta on loopback: OIDC discovery and a JWKS, and revocation JWTs signed the way
 * Okta signs them (typ global-token-revocation+jwt, iss, sub = client id, exact aud, jti,
 * iat, nbf = iat - 300, exp = iat + 300). Counts JWKS fetches so tests can see caching.
 */
export class FakeIdp {
  issuer = '';
  readonly clientId = `0oa${randomUUID().replace(/-/g, '').slice(0, 17)}`;
  jwksFetches = 0;
  private server: Server | null = null;

  private constructor(private readonly keys: KeyRing) {}

  static async start(): Promise<FakeIdp> {
    const idp = new FakeIdp(await KeyRing.create());
    idp.server = createServer((req, res) => {
      if (req.url === '/.well-known/openid-configuration') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ issuer: idp.issuer, jwks_uri: `${idp.issuer}/oauth2/v1/keys` }));
      } else if (req.url === '/oauth2/v1/keys') {
        idp.jwksFetches++;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(idp.keys.jwks()));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => idp.server!.listen(0, '127.0.0.1', resolve));
    idp.issuer = `http://127.0.0.1:${(idp.server.address() as AddressInfo).port}`;
    return idp;
  }

  get currentKey(): SigningKey {
    return this.keys.current;
  }

  /** Key rotation at the IdP: a new kid is published and used from now on. */
  rotate(): Promise<SigningKey> {
    return this.keys.rotate();
  }

  async sign(options: RevocationTokenOptions): Promise<string> {
    const key = options.key ?? this.currentKey;
    const now = Math.floor(Date.now() / 1000);
    const header = {
      alg: 'RS256',
      typ: 'global-token-revocation+jwt',
      ...(options.omitKid ? {} : { kid: key.kid }),
      ...options.header,
    };
    return new SignJWT({
      iss: this.issuer,
      sub: this.clientId,
      aud: options.audience,
      jti: randomUUID(),
      iat: now,
      nbf: now - 300,
      exp: now + 300,
      ...options.claims,
    })
      .setProtectedHeader(header)
      .sign(key.privateKey);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** A SAML IdP's signing certificate and the key behind it (Okta signs GTR JWTs with it, without kid). */
export function samlSigningMaterial(): { certificatePem: string; certificateBase64Der: string; key: SigningKey } {
  const pems = selfSigned([{ name: 'commonName', value: 'saml-idp.test' }], {
    keySize: 2048,
    days: 2,
    algorithm: 'sha256',
  });
  const privateKey = createPrivateKey(pems.private);
  const der = pems.cert.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return {
    certificatePem: pems.cert,
    certificateBase64Der: der,
    key: { kid: 'saml-cert', privateKey, publicJwk: { kty: 'RSA' } },
  };
}
