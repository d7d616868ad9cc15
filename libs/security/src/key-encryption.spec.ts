import { createCipheriv, randomBytes, scryptSync } from 'node:crypto';
import {
  SealedFor,
  SealedSecrets,
  decryptSecret,
  decryptSecretAsync,
  encryptSecret,
  encryptSecretAsync,
  isCurrentEnvelope,
} from './key-encryption';

const SECRET = 'the right secret value';
const PURPOSE = SealedFor.logStreamAuthorization('lst_1');

/** A value as the first version sealed it: no purpose bound, 16-byte tag. */
function sealedV1(plaintext: string, secret: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', scryptSync(secret, salt, 32), iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', ...[salt, iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url'))].join('.');
}

const withPart = (sealed: string, index: number, value: Buffer | string) => {
  const parts = sealed.split('.');
  parts[index] = typeof value === 'string' ? value : value.toString('base64url');
  return parts.join('.');
};

describe('secrets at rest (signing keys, log stream credentials)', () => {
  it('round-trips in the v2 envelope, with a fresh salt and iv each time', () => {
    const a = encryptSecret('-----BEGIN PRIVATE KEY-----abc', SECRET, SealedFor.signingKey('k1'));
    const b = encryptSecret('-----BEGIN PRIVATE KEY-----abc', SECRET, SealedFor.signingKey('k1'));
    expect(a).toMatch(/^v2\.[\w-]{22}\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
    expect(a).not.toEqual(b);
    expect(a).not.toContain('PRIVATE KEY');
    expect(isCurrentEnvelope(a)).toBe(true);
    expect(decryptSecret(a, SECRET, SealedFor.signingKey('k1'))).toBe('-----BEGIN PRIVATE KEY-----abc');
  });

  it('decrypts off the event loop to the same plaintext', async () => {
    const sealed = encryptSecret('key material', SECRET, PURPOSE);
    await expect(decryptSecretAsync(sealed, SECRET, PURPOSE)).resolves.toBe('key material');
    await expect(decryptSecretAsync(sealed, 'the wrong secret value', PURPOSE)).rejects.toThrow(/cannot be decrypted/);
  });

  it('refuses the wrong secret and a tampered ciphertext', () => {
    const sealed = encryptSecret('key material', SECRET, PURPOSE);
    expect(() => decryptSecret(sealed, 'the wrong secret value', PURPOSE)).toThrow(/cannot be decrypted/);
    expect(() => decryptSecret(withPart(sealed, 4, Buffer.from('tampered')), SECRET, PURPOSE)).toThrow(/cannot be decrypted/);
  });

  it('binds a value to its purpose and record: another record or purpose does not open it', () => {
    const sealed = encryptSecret('Bearer abc', SECRET, SealedFor.logStreamAuthorization('lst_1'));
    for (const other of [
      SealedFor.logStreamAuthorization('lst_2'),
      SealedFor.logStreamHeader('lst_1', 'authorization'),
      SealedFor.signingKey('lst_1'),
    ]) {
      expect(() => decryptSecret(sealed, SECRET, other)).toThrow(/cannot be decrypted/);
    }
    expect(SealedFor.logStreamHeader('lst_1', 'X-Api-Key')).toBe(SealedFor.logStreamHeader('lst_1', 'x-api-key'));
    expect(() => encryptSecret('x', SECRET, '')).toThrow(/purpose/);
  });

  it('enforces the 16-byte tag: a truncated tag is refused before any decryption', () => {
    const sealed = encryptSecret('key material', SECRET, PURPOSE);
    const tag = Buffer.from(sealed.split('.')[3], 'base64url');
    for (const short of [tag.subarray(0, 4), tag.subarray(0, 12), Buffer.alloc(0)]) {
      expect(() => decryptSecret(withPart(sealed, 3, short), SECRET, PURPOSE)).toThrow(/16-byte tag/);
    }
    expect(() => decryptSecret(withPart(sealed, 2, Buffer.alloc(8)), SECRET, PURPOSE)).toThrow(/malformed/);
    expect(() => decryptSecret(withPart(sealed, 3, `${sealed.split('.')[3]}!`), SECRET, PURPOSE)).toThrow(/malformed/);
  });

  it.each([['v3.a.b.c.d'], ['v2.only.four.parts'], ['plain text'], [''], ['v2.a.b.c.d.e']])('refuses the envelope %j', (sealed) => {
    expect(() => decryptSecret(sealed, SECRET, PURPOSE)).toThrow(/unknown secret envelope/);
  });

  it('still opens a v1 value, sealed before purposes were bound, whatever the purpose', () => {
    const legacy = sealedV1('Splunk 2f0e', SECRET);
    expect(isCurrentEnvelope(legacy)).toBe(false);
    expect(decryptSecret(legacy, SECRET, PURPOSE)).toBe('Splunk 2f0e');
    expect(() => decryptSecret(legacy, 'the wrong secret value', PURPOSE)).toThrow(/cannot be decrypted/);
    expect(() => decryptSecret(withPart(legacy, 3, Buffer.from(legacy.split('.')[3], 'base64url').subarray(0, 8)), SECRET, PURPOSE)).toThrow(
      /16-byte tag/,
    );
  });

  it('seals off the event loop too, readable by either opener', async () => {
    const sealed = await encryptSecretAsync('Splunk 2f0e', SECRET, PURPOSE);
    expect(sealed).toMatch(/^v2\./);
    expect(sealed).not.toContain('Splunk');
    expect(decryptSecret(sealed, SECRET, PURPOSE)).toBe('Splunk 2f0e');
  });

  it('SealedSecrets opens each sealed text once per purpose, and retries one it could not open', async () => {
    const secrets = new SealedSecrets(SECRET);
    const sealed = encryptSecret('Bearer abc', SECRET, PURPOSE);
    const first = secrets.open(sealed, PURPOSE);
    expect(secrets.open(sealed, PURPOSE)).toBe(first);
    await expect(first).resolves.toBe('Bearer abc');
    // The same text asked for another record is not served from what was opened for this one.
    await expect(secrets.open(sealed, SealedFor.logStreamAuthorization('lst_2'))).rejects.toThrow(/cannot be decrypted/);

    const foreign = encryptSecret('Bearer xyz', 'another secret value', PURPOSE);
    const failed = secrets.open(foreign, PURPOSE);
    await expect(failed).rejects.toThrow(/cannot be decrypted/);
    expect(secrets.open(foreign, PURPOSE)).not.toBe(failed);
    await expect(secrets.open(foreign, PURPOSE)).rejects.toThrow(/cannot be decrypted/);
  });
});
