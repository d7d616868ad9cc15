import { decryptSecret, decryptSecretAsync, encryptSecret } from './key-encryption';

describe('signing key encryption at rest', () => {
  it('round-trips, with a fresh salt and iv each time', () => {
    const a = encryptSecret('-----BEGIN PRIVATE KEY-----abc', 'a secret of enough length');
    const b = encryptSecret('-----BEGIN PRIVATE KEY-----abc', 'a secret of enough length');
    expect(a).not.toEqual(b);
    expect(a).not.toContain('PRIVATE KEY');
    expect(decryptSecret(a, 'a secret of enough length')).toBe('-----BEGIN PRIVATE KEY-----abc');
  });

  it('decrypts off the event loop to the same plaintext', async () => {
    const sealed = encryptSecret('key material', 'the right secret value');
    await expect(decryptSecretAsync(sealed, 'the right secret value')).resolves.toBe('key material');
    await expect(decryptSecretAsync(sealed, 'the wrong secret value')).rejects.toThrow(/cannot be decrypted/);
  });

  it('refuses the wrong secret and a tampered ciphertext', () => {
    const sealed = encryptSecret('key material', 'the right secret value');
    expect(() => decryptSecret(sealed, 'the wrong secret value')).toThrow(/cannot be decrypted/);
    const parts = sealed.split('.');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => decryptSecret(parts.join('.'), 'the right secret value')).toThrow(/cannot be decrypted/);
  });
});
