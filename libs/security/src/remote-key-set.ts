import { createLocalJWKSet, errors as joseErrors, FlattenedJWSInput, JSONWebKeySet, JWSHeaderParameters, KeyLike } from 'jose';
import { UnsafeUrlException } from './outbound-url.policy';
import { OutboundRequestException, SafeHttpClient } from './safe-http.client';

/** The largest key set or discovery document we read (a real one is a few KiB). */
export const KEY_DOCUMENT_MAX_BYTES = 256 * 1024;

/** A key set (or the discovery document that names it) could not be fetched or is not one. */
export class KeySetUnavailableException extends Error {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`${url}: ${reason}`);
  }
}

export interface RemoteKeySetOptions {
  /** Least time between two fetches caused by an unknown kid. */
  cooldownMs: number;
  /** A key set older than this is fetched again before use. */
  maxAgeMs: number;
}

/**
 * A remote JSON Web Key Set fetched through the safe client (URL rules, address check, one
 * deadline, no redirects, 256 KiB) and imported with jose's local key set. Same caching as jose's
 * remote set: refetched when older than the max age, and on an unknown kid at most once per
 * cooldown; concurrent callers share one fetch.
 */
export class RemoteKeySet {
  private local?: ReturnType<typeof createLocalJWKSet>;
  private fetchedAt?: number;
  private pending?: Promise<void>;

  constructor(
    private readonly http: SafeHttpClient,
    readonly url: string,
    private readonly options: RemoteKeySetOptions,
  ) {}

  /** For jose's jwtVerify: the key the header names. */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<KeyLike> => {
    if (!this.local || !this.fresh()) await this.reload();
    try {
      return await this.local!(header, token);
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey && !this.coolingDown()) {
        await this.reload();
        return this.local!(header, token);
      }
      throw err;
    }
  };

  private fresh(): boolean {
    return this.fetchedAt !== undefined && Date.now() < this.fetchedAt + this.options.maxAgeMs;
  }

  private coolingDown(): boolean {
    return this.fetchedAt !== undefined && Date.now() < this.fetchedAt + this.options.cooldownMs;
  }

  private reload(): Promise<void> {
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetch(): Promise<void> {
    let document: unknown;
    try {
      document = await this.http.getJson<unknown>(this.url, { maxBodyBytes: KEY_DOCUMENT_MAX_BYTES });
    } catch (err) {
      if (err instanceof OutboundRequestException || err instanceof UnsafeUrlException) {
        throw new KeySetUnavailableException(this.url, err.message);
      }
      throw err;
    }
    try {
      this.local = createLocalJWKSet(document as JSONWebKeySet);
    } catch {
      throw new KeySetUnavailableException(this.url, 'not a JSON Web Key Set');
    }
    this.fetchedAt = Date.now();
  }
}
