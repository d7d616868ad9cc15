import { randomUUID } from 'node:crypto';
import { createPrivateKey, KeyObject } from 'node:crypto';
import { exportJWK, exportPKCS8, generateKeyPair, JWK } from 'jose';
import { DataSource } from 'typeorm';
import type { SigningKeyStatus } from '@ulo/contracts';
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

/**
 * The service's logout-token signing keys in PostgreSQL. The first start creates one; rotation
 * makes a new current key and keeps the old one published as `previous`, so tokens in flight
 * (signed moments before) still verify.
 */
export class SigningKeyStore {
  private cached: { key: PrivateSigningKey; until: number } | null = null;
  private refreshing: Promise<PrivateSigningKey> | null = null;
  /** Decrypted keys by kid: a key is decrypted once per process, not at every refresh. */
  private readonly decrypted = new Map<string, PrivateSigningKey>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly secret: string,
  ) {}

  /** Creates the first key unless one exists (safe when several instances start at once). */
  async ensureCurrent(): Promise<void> {
    const [row] = await this.dataSource.query(`SELECT kid FROM signing_keys WHERE status = 'current'`);
    if (row) return;
    const fresh = await this.newKeyRow();
    await this.dataSource.query(
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_key_encrypted, status) VALUES ($1, $2, $3, $4, 'current')
       ON CONFLICT DO NOTHING`,
      [fresh.kid, ALG, JSON.stringify(fresh.jwk), fresh.sealed],
    );
  }

  async rotate(): Promise<PublicSigningKey> {
    const fresh = await this.newKeyRow();
    await this.dataSource.transaction(async (tx) => {
      await tx.query(`LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE`);
      await tx.query(`UPDATE signing_keys SET status = 'retired' WHERE status = 'previous'`);
      await tx.query(`UPDATE signing_keys SET status = 'previous', rotated_at = now() WHERE status = 'current'`);
      await tx.query(
        `INSERT INTO signing_keys (kid, alg, public_jwk, private_key_encrypted, status) VALUES ($1, $2, $3, $4, 'current')`,
        [fresh.kid, ALG, JSON.stringify(fresh.jwk), fresh.sealed],
      );
    });
    this.cached = null;
    const keys = await this.list();
    return keys.find((k) => k.kid === fresh.kid)!;
  }

  /** Public parts only, newest first. */
  async list(): Promise<PublicSigningKey[]> {
    const rows: { kid: string; alg: string; status: SigningKeyStatus; public_jwk: JWK; created_at: Date; rotated_at: Date | null }[] =
      await this.dataSource.query(
        `SELECT kid, alg, status, public_jwk, created_at, rotated_at FROM signing_keys ORDER BY created_at DESC, kid`,
      );
    return rows.map((r) => ({
      kid: r.kid,
      alg: r.alg,
      status: r.status,
      jwk: r.public_jwk,
      created_at: r.created_at.toISOString(),
      rotated_at: r.rotated_at ? r.rotated_at.toISOString() : null,
    }));
  }

  /** SPEC §4: the JWKS publishes the current and the previous key. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const keys = (await this.list()).filter((k) => k.status !== 'retired');
    return { keys: keys.map((k) => k.jwk) };
  }

  /**
   * The key to sign with now. Re-read every few seconds so that a rotation elsewhere takes effect;
   * one refresh at a time, and meanwhile the key in hand is served (it stays published as
   * `previous` after a rotation, so a token signed with it still verifies).
   */
  async current(): Promise<PrivateSigningKey> {
    if (this.cached && this.cached.until > Date.now()) return this.cached.key;
    this.refreshing ??= this.load().finally(() => {
      this.refreshing = null;
    });
    if (this.cached) {
      this.refreshing.catch(() => undefined);
      return this.cached.key;
    }
    return this.refreshing;
  }

  private async load(): Promise<PrivateSigningKey> {
    const [row]: { kid: string; alg: string; private_key_encrypted: string }[] = await this.dataSource.query(
      `SELECT kid, alg, private_key_encrypted FROM signing_keys WHERE status = 'current'`,
    );
    if (!row) throw new Error('no current signing key');
    let key = this.decrypted.get(row.kid);
    if (!key) {
      key = {
        kid: row.kid,
        alg: row.alg,
        privateKey: createPrivateKey(await decryptSecretAsync(row.private_key_encrypted, this.secret, SealedFor.signingKey(row.kid))),
      };
      this.decrypted.set(row.kid, key);
    }
    this.cached = { key, until: Date.now() + CACHE_MS };
    return key;
  }

  private async newKeyRow(): Promise<{ kid: string; jwk: JWK; sealed: string }> {
    const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true, modulusLength: 2048 });
    const kid = randomUUID();
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
    return { kid, jwk, sealed: await encryptSecretAsync(await exportPKCS8(privateKey), this.secret, SealedFor.signingKey(kid)) };
  }
}
