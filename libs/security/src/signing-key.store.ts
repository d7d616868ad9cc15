import { createPrivateKey, KeyObject, randomUUID } from 'node:crypto';
import { exportJWK, exportPKCS8, generateKeyPair, JWK } from 'jose';
import { LRUCache } from 'lru-cache';
import { PUBLISHED_SIGNING_KEY_STATUSES, type SigningKeyStatus } from '@ulo/contracts';
import type { NewSigningKey, SigningKeyEntity, SigningKeyRepository } from '@ulo/persistence';
import { SealedFor, decryptSecretAsync, encryptSecretAsync } from './key-encryption';

export interface PublicSigningKey {
  kid: string;
  alg: string;
  status: SigningKeyStatus;
  jwk: JWK;
  created_at: string;
  rotated_at: string | null;
}

export interface PrivateSigningKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
}

const ALG = 'RS256';
const CACHE_MS = 2000;
/** Decrypted private keys kept: a rotation adds one, so a few cover every key still in use. */
const DECRYPTED_KEYS = 16;

const publicView = (k: SigningKeyEntity): PublicSigningKey => ({
  kid: k.kid,
  alg: k.alg,
  status: k.status,
  jwk: k.publicJwk,
  created_at: k.createdAt.toISOString(),
  rotated_at: k.rotatedAt ? k.rotatedAt.toISOString() : null,
});

/**
 * The service's logout-token signing keys in PostgreSQL. The first start creates one; rotation
 * makes a new current key and keeps the old one published as `previous`, so tokens in flight
 * (signed moments before) still verify.
 */
export class SigningKeyStore {
  private cached: { key: PrivateSigningKey; until: number } | null = null;
  private refreshing: Promise<PrivateSigningKey> | null = null;
  /** Decrypted keys by kid: a key is decrypted once per process, not at every refresh. */
  private readonly decrypted = new LRUCache<string, PrivateSigningKey>({ max: DECRYPTED_KEYS });

  constructor(
    private readonly keys: SigningKeyRepository,
    private readonly secret: string,
  ) {}

  /** Creates the first key unless one exists (safe when several instances start at once). */
  async ensureCurrent(): Promise<void> {
    if (await this.keys.current()) return;
    await this.keys.insertIfNoCurrent(await this.newKey());
  }

  async rotate(): Promise<PublicSigningKey> {
    const fresh = await this.newKey();
    await this.keys.rotateTo(fresh);
    this.cached = null;
    const rotated = (await this.keys.list()).find((k) => k.kid === fresh.kid)!;
    return publicView(rotated);
  }

  /** Public parts only, newest first. */
  async list(): Promise<PublicSigningKey[]> {
    return (await this.keys.list()).map(publicView);
  }

  /** SPEC §4: the JWKS publishes the current and the previous key. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const published: readonly SigningKeyStatus[] = PUBLISHED_SIGNING_KEY_STATUSES;
    return { keys: (await this.keys.list()).filter((k) => published.includes(k.status)).map((k) => k.publicJwk) };
  }

  /**
   * The key to sign with now, re-read when the one in hand is older than a few seconds so that a
   * rotation elsewhere takes effect; one refresh at a time. If the database cannot answer, the key
   * in hand is served (it stays published as `previous` after a rotation, so a token signed with
   * it still verifies).
   */
  async current(): Promise<PrivateSigningKey> {
    if (this.cached && this.cached.until > Date.now()) return this.cached.key;
    this.refreshing ??= this.load().finally(() => {
      this.refreshing = null;
    });
    try {
      return await this.refreshing;
    } catch (err) {
      if (this.cached) return this.cached.key;
      throw err;
    }
  }

  private async load(): Promise<PrivateSigningKey> {
    const current = await this.keys.current();
    if (!current) throw new Error('no current signing key');
    let key = this.decrypted.get(current.kid);
    if (!key) {
      key = {
        kid: current.kid,
        alg: current.alg,
        privateKey: createPrivateKey(await decryptSecretAsync(current.privateKeyEncrypted, this.secret, SealedFor.signingKey(current.kid))),
      };
      this.decrypted.set(current.kid, key);
    }
    this.cached = { key, until: Date.now() + CACHE_MS };
    return key;
  }

  private async newKey(): Promise<NewSigningKey> {
    const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true, modulusLength: 2048 });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
    const privateKeyEncrypted = await encryptSecretAsync(await exportPKCS8(privateKey), this.secret, SealedFor.signingKey(kid));
    return { kid, alg: ALG, publicJwk, privateKeyEncrypted };
  }
}
