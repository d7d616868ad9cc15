import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, JWK, KeyLike } from 'jose';

export interface SigningKey {
  kid: string;
  privateKey: KeyLike;
  publicJwk: JWK;
}

export async function newSigningKey(kid = randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

/**
 * The RS256 keys a fake issuer (identity provider, SSF transmitter) publishes: every key it ever
 * had stays in its JWKS, and the newest one signs.
 */
export class KeyRing {
  private readonly keys: SigningKey[];

  private constructor(first: SigningKey) {
    this.keys = [first];
  }

  static async create(): Promise<KeyRing> {
    return new KeyRing(await newSigningKey());
  }

  get current(): SigningKey {
    return this.keys[this.keys.length - 1];
  }

  /** Key rotation at the issuer: a new kid is published and used from now on. */
  async rotate(): Promise<SigningKey> {
    const key = await newSigningKey();
    this.keys.push(key);
    return key;
  }

  /** The JWKS document the issuer serves. */
  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }
}
