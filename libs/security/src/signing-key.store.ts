import { createPrivateKey, KeyObject, randomUUID } from 'node:crypto';
import { exportJWK, exportPKCS8, generateKeyPair, JWK } from 'jose';
import { LRUCache } from 'lru-cache';
import {
  DEFAULT_SIGNING_ALGORITHM,
  PUBLISHED_SIGNING_KEY_STATUSES,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
  type SigningKeyStatus,
} from '@ulo/contracts';
import type { NewSigningKey, SigningKeyEntity, SigningKeyRepository } from '@ulo/persistence';
import { SealedFor, decryptSecretAsync, encryptSecretAsync } from './key-encryption';

export interface PublicSigningKey {
  kid: string;
  alg: SigningAlgorithm;
  status: SigningKeyStatus;
  jwk: JWK;
  created_at: string;
  rotated_at: string | null;
}

export interface PrivateSigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: KeyObject;
}

const CACHE_MS = 2000;
/** Decrypted private keys kept: a rotation adds one per algorithm, so a few cover every key still in use. */
const DECRYPTED_KEYS = 16;

const publicView = (k: SigningKeyEntity): PublicSigningKey => ({
  kid: k.kid,
  alg: k.alg,
  status: k.status,
  jwk: k.publicJwk,
  created_at: k.createdAt.toISOString(),
  rotated_at: k.rotatedAt ? k.rotatedAt.toISOString() : null,
});

/** jose's key generation for each algorithm: RSA 2048, P-256, Ed25519. */
const generate = (alg: SigningAlgorithm) =>
  alg === 'RS256'
    ? generateKeyPair(alg, { extractable: true, modulusLength: 2048 })
    : alg === 'EdDSA'
      ? generateKeyPair(alg, { extractable: true, crv: 'Ed25519' })
      : generateKeyPair(alg, { extractable: true });

/**
 * The service's logout-token signing keys in PostgreSQL, one current key per algorithm (SPEC §4).
 * The first start creates them; rotation makes a new current key and keeps the old one published
 * as `previous`, so tokens in flight (signed moments before) still verify.
 */
export class SigningKeyStore {
  private cached: { keys: Map<SigningAlgorithm, PrivateSigningKey>; until: number } | null = null;
  private refreshing: Promise<Map<SigningAlgorithm, PrivateSigningKey>> | null = null;
  /** Decrypted keys by kid: a key is decrypted once per process, not at every refresh. */
  private readonly decrypted = new LRUCache<string, PrivateSigningKey>({ max: DECRYPTED_KEYS });

  constructor(
    private readonly keys: SigningKeyRepository,
    private readonly secret: string,
  ) {}

  /** Creates the current key of every algorithm that has none (safe when several instances start at once). */
  async ensureCurrent(): Promise<void> {
    const present = new Set((await this.keys.currents()).map((k) => k.alg));
    for (const alg of SIGNING_ALGORITHMS) {
      if (!present.has(alg)) await this.keys.insertIfNoCurrent(await this.newKey(alg));
    }
  }

  /** New current keys for `algs` (every algorithm by default), in one transaction; their public views. */
  async rotate(algs: readonly SigningAlgorithm[] = SIGNING_ALGORITHMS): Promise<PublicSigningKey[]> {
    const fresh = await Promise.all(algs.map((alg) => this.newKey(alg)));
    await this.keys.rotateTo(fresh);
    this.cached = null;
    const kids = new Set(fresh.map((k) => k.kid));
    return (await this.keys.list()).filter((k) => kids.has(k.kid)).map(publicView);
  }

  /** Public parts only, newest first. */
  async list(): Promise<PublicSigningKey[]> {
    return (await this.keys.list()).map(publicView);
  }

  /** SPEC §4: the JWKS publishes the current and the previous key of every algorithm. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const published: readonly SigningKeyStatus[] = PUBLISHED_SIGNING_KEY_STATUSES;
    return { keys: (await this.keys.list()).filter((k) => published.includes(k.status)).map((k) => k.publicJwk) };
  }

  /**
   * The key of `alg` to sign with now, re-read when the ones in hand are older than a few seconds
   * so that a rotation elsewhere takes effect; one refresh at a time. If the database cannot
   * answer, the key in hand is served (it stays published as `previous` after a rotation, so a
   * token signed with it still verifies).
   */
  async current(alg: SigningAlgorithm = DEFAULT_SIGNING_ALGORITHM): Promise<PrivateSigningKey> {
    let keys = this.cached && this.cached.until > Date.now() ? this.cached.keys : null;
    if (!keys) {
      this.refreshing ??= this.load().finally(() => {
        this.refreshing = null;
      });
      try {
        keys = await this.refreshing;
      } catch (err) {
        if (!this.cached) throw err;
        keys = this.cached.keys;
      }
    }
    const key = keys.get(alg);
    if (!key) throw new Error(`no current ${alg} signing key`);
    return key;
  }

  private async load(): Promise<Map<SigningAlgorithm, PrivateSigningKey>> {
    const keys = new Map<SigningAlgorithm, PrivateSigningKey>();
    for (const current of await this.keys.currents()) {
      let key = this.decrypted.get(current.kid);
      if (!key) {
        key = {
          kid: current.kid,
          alg: current.alg,
          privateKey: createPrivateKey(await decryptSecretAsync(current.privateKeyEncrypted, this.secret, SealedFor.signingKey(current.kid))),
        };
        this.decrypted.set(current.kid, key);
      }
      keys.set(current.alg, key);
    }
    this.cached = { keys, until: Date.now() + CACHE_MS };
    return keys;
  }

  private async newKey(alg: SigningAlgorithm): Promise<NewSigningKey> {
    const { publicKey, privateKey } = await generate(alg);
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    const privateKeyEncrypted = await encryptSecretAsync(await exportPKCS8(privateKey), this.secret, SealedFor.signingKey(kid));
    return { kid, alg, publicJwk, privateKeyEncrypted };
  }
}
