import { createCipheriv, createDecipheriv, randomBytes, scrypt, scryptSync } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (secret: string, salt: Buffer, length: number) => Promise<Buffer>;

const VERSION = 'v1';

/**
 * Envelope for private keys at rest: AES-256-GCM under a key derived (scrypt, per-record salt)
 * from SIGNING_KEY_ENCRYPTION_SECRET. Format: v1.<salt>.<iv>.<tag>.<ciphertext>, base64url parts.
 */
export function encryptSecret(plaintext: string, secret: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = scryptSync(secret, salt, 32);
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
  if (version !== VERSION || !body) throw new Error('unknown key envelope');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('the signing key cannot be decrypted: is SIGNING_KEY_ENCRYPTION_SECRET the one it was created with?');
  }
}
