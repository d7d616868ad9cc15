import { SealedSecrets, decryptSecret, decryptSecretAsync, encryptSecret, encryptSecretAsync } from './key-encryption';

describe('secrets at rest (signing keys, log stream credentials)', () => {
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

  it('seals off the event loop too, readable by either opener', async () => {
    const sealed = await encryptSecretAsync('Splunk 2f0e', 'the right secret value');
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain('Splunk');
    expect(decryptSecret(sealed, 'the right secret value')).toBe('Splunk 2f0e');
  });

  it('SealedSecrets opens each sealed text once, and retries one it could not open', async () => {
    const secrets = new SealedSecrets('the right secret value');
    const sealed = encryptSecret('Bearer abc', 'the right secret value');
    const first = secrets.open(sealed);
    expect(secrets.open(sealed)).toBe(first);
    await expect(first).resolves.toBe('Bearer abc');

    const foreign = encryptSecret('Bearer xyz', 'another secret value');
    const failed = secrets.open(foreign);
    await expect(failed).rejects.toThrow(/cannot be decrypted/);
    expect(secrets.open(foreign)).not.toBe(failed);
    await expect(secrets.open(foreign)).rejects.toThrow(/cannot be decrypted/);
  });
});
