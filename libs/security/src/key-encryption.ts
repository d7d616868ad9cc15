import { createCipheriv, createDecipheriv, randomBytes, scrypt, scryptSync } from 'node:crypto';
import { promisify } from 'node:util';
import { LRUCache } from 'lru-cache';

const scryptAsync = promisify(scrypt) as (secret: string, salt: Buffer, length: number) => Promise<Buffer>;

/** The envelope written now; `v1` (no additional authenticated data) is still read. */
const CURRENT = 'v2';
const READABLE = new Set(['v1', CURRENT]);
const SALT_BYTES = 16;
const IV_BYTES = 12;
/** GCM's full tag: a shorter one supplied by an attacker would be accepted by a default decipher. */
const TAG_BYTES = 16;

/**
 * What a sealed value is for and which record holds it: bound to the ciphertext as GCM additional
 * authenticated data, so that a value copied to another record or another purpose (a signing key
 * into a stream's Authorization, one stream's header into another's) does not open.
 */
export const SealedFor = {
  signingKey: (kid: string) => `signing_key:${kid}`,
  logStreamAuthorization: (streamId: string) => `log_stream:${streamId}:authorization`,
  /** Header names are case-insensitive: the binding uses the lower-case name. */
  logStreamHeader: (streamId: string, header: string) => `log_stream:${streamId}:header:${header.toLowerCase()}`,
  /** SPEC §9 `options.ssf.push_authorization`: the Authorization header an SSF transmitter pushes with. */
  connectionSsfPushAuthorization: (connectionId: string) => `connection:${connectionId}:ssf:push_authorization`,
  /** SPEC §9 `options.ssf.client_secret`: the OAuth client secret of the connection's stream management. */
  connectionSsfClientSecret: (connectionId: string) => `connection:${connectionId}:ssf:client_secret`,
} as const;

export class SecretEnvelopeException extends Error {}

/**
 * Envelope for secrets at rest (private signing keys, log stream and SSF credentials): AES-256-GCM with a
 * 16-byte tag, under a key derived (scrypt, per-record salt) from SIGNING_KEY_ENCRYPTION_SECRET,
 * the purpose (see {@link SealedFor}) as additional authenticated data.
 * Format: v2.<salt>.<iv>.<tag>.<ciphertext>, base64url parts. `npm run secrets:reseal` rewrites
 * every sealed value of the database in this format, under a new secret if asked.
 */
export function encryptSecret(plaintext: string, secret: string, purpose: string): string {
  const salt = randomBytes(SALT_BYTES);
  return seal(plaintext, salt, scryptSync(secret, salt, 32), purpose);
}

/** The same, with the key derivation (tens of milliseconds by design) off the event loop. */
export async function encryptSecretAsync(plaintext: string, secret: string, purpose: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  return seal(plaintext, salt, await scryptAsync(secret, salt, 32), purpose);
}

export function decryptSecret(sealed: string, secret: string, purpose: string): string {
  const envelope = parse(sealed);
  return open(envelope, scryptSync(secret, envelope.salt, 32), purpose);
}

/** The same, with the key derivation (tens of milliseconds by design) off the event loop. */
export async function decryptSecretAsync(sealed: string, secret: string, purpose: string): Promise<string> {
  const envelope = parse(sealed);
  return open(envelope, await scryptAsync(secret, envelope.salt, 32), purpose);
}

/** False for a value in an older envelope (`v1`, not bound to its purpose): the re-seal command upgrades it. */
export function isCurrentEnvelope(sealed: string): boolean {
  return sealed.startsWith(`${CURRENT}.`);
}

function additionalData(purpose: string): Buffer {
  if (purpose.length === 0) throw new SecretEnvelopeException('a sealed secret needs its purpose');
  return Buffer.from(`universal-logout/${CURRENT}/${purpose}`, 'utf8');
}

function seal(plaintext: string, salt: Buffer, key: Buffer, purpose: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(purpose));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [CURRENT, ...[salt, iv, cipher.getAuthTag(), body].map((p) => p.toString('base64url'))].join('.');
}

interface Envelope {
  version: string;
  salt: Buffer;
  iv: Buffer;
  tag: Buffer;
  body: Buffer;
}

function parse(sealed: string): Envelope {
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  const [version, salt, iv, tag, body] = parts;
  if (parts.length !== 5 || !READABLE.has(version)) throw new SecretEnvelopeException('unknown secret envelope');
  const envelope = { version, salt: decoded(salt), iv: decoded(iv), tag: decoded(tag), body: decoded(body) };
  if (envelope.salt.length !== SALT_BYTES || envelope.iv.length !== IV_BYTES || envelope.tag.length !== TAG_BYTES) {
    throw new SecretEnvelopeException(`malformed secret envelope: ${TAG_BYTES}-byte tag, ${IV_BYTES}-byte iv, ${SALT_BYTES}-byte salt expected`);
  }
  return envelope;
}

/** Strict base64url: Node's decoder skips characters it does not know instead of refusing them. */
function decoded(part: string): Buffer {
  return /^[A-Za-z0-9_-]*$/.test(part) ? Buffer.from(part, 'base64url') : Buffer.alloc(0);
}

function open(envelope: Envelope, key: Buffer, purpose: string): string {
  const decipher = createDecipheriv('aes-256-gcm', key, envelope.iv, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(envelope.tag);
  // v1 values were sealed before purposes were bound; they open as before until re-sealed.
  if (envelope.version === CURRENT) decipher.setAAD(additionalData(purpose));
  try {
    return Buffer.concat([decipher.update(envelope.body), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretEnvelopeException(
      'the secret cannot be decrypted: it was sealed under another SIGNING_KEY_ENCRYPTION_SECRET, for another record, or altered',
    );
  }
}

/**
 * Opens sealed secrets and remembers each opened one (by its sealed text and purpose), so that a
 * credential used on every delivery costs one key derivation per process, not one per request.
 */
export class SealedSecrets {
  private readonly opened: LRUCache<string, Promise<string>>;

  constructor(
    private readonly secret: string,
    capacity = 1000,
  ) {
    this.opened = new LRUCache({ max: capacity });
  }

  open(sealed: string, purpose: string): Promise<string> {
    const key = `${purpose}\n${sealed}`;
    let plaintext = this.opened.get(key);
    if (!plaintext) {
      plaintext = decryptSecretAsync(sealed, this.secret, purpose);
      // A failure is not remembered: the next attempt derives again (and fails again, visibly).
      plaintext.catch(() => this.opened.delete(key));
      this.opened.set(key, plaintext);
    }
    return plaintext;
  }
}
