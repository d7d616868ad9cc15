import { createCipheriv, createDecipheriv, randomBytes, scrypt, scryptSync } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (secret: string, salt: Buffer, length: number) => Promise<Buffer>;

const VERSION = 'v1';

/**
 * Envelope for secrets at rest (private signing keys, log stream credentials): AES-256-GCM under a
 * key derived (scrypt, per-record salt) from SIGNING_KEY_ENCRYPTION_SECRET.
 * Format: v1.<salt>.<iv>.<tag>.<ciphertext>, base64url parts.
 */
export function encryptSecret(plaintext: string, secret: string): string {
  const salt = randomBytes(16);
  return seal(plaintext, salt, scryptSync(secret, salt, 32));
}

/** The same, with the key derivation (tens of milliseconds by design) off the event loop. */
export async function encryptSecretAsync(plaintext: string, secret: string): Promise<string> {
  const salt = randomBytes(16);
  return seal(plaintext, salt, await scryptAsync(secret, salt, 32));
}

function seal(plaintext: string, salt: Buffer, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, salt, iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

export function decryptSecret(sealed: string, secret: string): string {
  const [, salt] = sealed.split('.');
  return open(sealed, scryptSync(secret, Buffer.from(salt ?? '', 'base64url'), 32));
}

/** The same, with the key derivation (tens of milliseconds by design) off the event loop. */
export async function decryptSecretAsync(sealed: string, secret: string): Promise<string> {
  const [, salt] = sealed.split('.');
  return open(sealed, await scryptAsync(secret, Buffer.from(salt ?? '', 'base64url'), 32));
}

function open(sealed: string, key: Buffer): string {
  const [version, , iv, tag, body] = sealed.split('.');
  if (version !== VERSION || !body) throw new Error('unknown secret envelope');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('the secret cannot be decrypted: is SIGNING_KEY_ENCRYPTION_SECRET the one it was sealed with?');
  }
}

/**
 * Opens sealed secrets and remembers each opened one (by its sealed text), so that a credential
 * used on every delivery costs one key derivation per process, not one per request.
 */
export class SealedSecrets {
  private readonly opened = new Map<string, Promise<string>>();

  constructor(
    private readonly secret: string,
    private readonly capacity = 1000,
  ) {}

  open(sealed: string): Promise<string> {
    let plaintext = this.opened.get(sealed);
    if (!plaintext) {
      if (this.opened.size >= this.capacity) this.opened.clear();
      plaintext = decryptSecretAsync(sealed, this.secret);
      // A failure is not remembered: the next attempt derives again (and fails again, visibly).
      plaintext.catch(() => this.opened.delete(sealed));
      this.opened.set(sealed, plaintext);
    }
    return plaintext;
  }
}
