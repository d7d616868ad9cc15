import { randomBytes } from 'node:crypto';

const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** `length` random alphanumeric characters, without a prefix. */
export function randomId(length = 16): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/** Auth0-style opaque ids: `con_` + 16 random characters. */
export function newId(prefix: string, length = 16): string {
  return `${prefix}_${randomId(length)}`;
}
