import { createCipheriv, randomBytes, scryptSync, sign, verify, createPublicKey } from 'node:crypto';
import { DataSource } from 'typeorm';
import { SigningKeyRepository, createDataSource } from '@ulo/persistence';
import { SealedFor, SigningKeyStore, UnopenableSecretsException, decryptSecret, encryptSecret, isCurrentEnvelope, resealSecrets } from '@ulo/security';
import { testConfig, truncateAll } from '@ulo/testing';

const OLD = 'the old key-encryption secret';
const NEW = 'the new key-encryption secret';

/** A value as the first version sealed it: no purpose bound. */
function sealedV1(plaintext: string, secret: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', scryptSync(secret, salt, 32), iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', ...[salt, iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url'))].join('.');
}

/** SIGNING_KEY_ENCRYPTION_SECRET rotation (SPEC §6: secrets are never returned; README "Secrets and log streams") against the real schema. */
describe('resealSecrets (npm run secrets:reseal)', () => {
  const config = testConfig();
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = createDataSource(config.database.url);
    await dataSource.initialize();
  });
  afterAll(async () => dataSource.destroy());
  beforeEach(async () => truncateAll(dataSource));

  const insertStream = (id: string, type: 'http' | 'kafka', sink: unknown) =>
    dataSource.query(`INSERT INTO log_streams (id, name, type, sink) VALUES ($1, $1, $2, $3::jsonb)`, [id, type, JSON.stringify(sink)]);
  const sinkOf = async (id: string) => (await dataSource.query(`SELECT sink FROM log_streams WHERE id = $1`, [id]))[0].sink;
  const keyRows = async (): Promise<{ kid: string; private_key_encrypted: string }[]> =>
    dataSource.query(`SELECT kid, private_key_encrypted FROM signing_keys ORDER BY kid`);
  const everything = async () => [await keyRows(), await dataSource.query(`SELECT id, sink FROM log_streams ORDER BY id`)];

  /** Signing keys and streams as a deployment under OLD holds them, old formats and clear values included. */
  async function seedUnderOld(): Promise<void> {
    const store = new SigningKeyStore(new SigningKeyRepository(dataSource), OLD);
    // A current key per algorithm, and the RS256 one rotated once: four keys.
    await store.ensureCurrent();
    await store.rotate(['RS256']);
    // A key sealed before purposes were bound (v1), still served from the database.
    const [previous] = await dataSource.query(`SELECT kid, private_key_encrypted FROM signing_keys WHERE status = 'previous'`);
    const pem = decryptSecret(previous.private_key_encrypted, OLD, SealedFor.signingKey(previous.kid));
    await dataSource.query(`UPDATE signing_keys SET private_key_encrypted = $2 WHERE kid = $1`, [previous.kid, sealedV1(pem, OLD)]);

    await insertStream('lst_sealed', 'http', {
      httpEndpoint: 'https://siem.example.com/in',
      httpContentType: 'application/json',
      httpContentFormat: 'JSONARRAY',
      httpAuthorizationSealed: encryptSecret('Splunk abc', OLD, SealedFor.logStreamAuthorization('lst_sealed')),
      httpCustomHeaders: [{ header: 'X-Api-Key', valueSealed: encryptSecret('k-123', OLD, SealedFor.logStreamHeader('lst_sealed', 'X-Api-Key')) }],
    });
    // Written by versions that kept the Authorization (v1-sealed) and header values in the clear.
    await insertStream('lst_legacy', 'http', {
      httpEndpoint: 'https://siem.example.com/legacy',
      httpContentType: 'application/json',
      httpContentFormat: 'JSONLINES',
      httpAuthorizationSealed: sealedV1('Bearer legacy', OLD),
      httpCustomHeaders: [{ header: 'X-Tenant', value: 'acme' }],
    });
    await insertStream('lst_clear', 'http', {
      httpEndpoint: 'https://siem.example.com/clear',
      httpContentType: 'application/json',
      httpContentFormat: 'JSONARRAY',
      httpAuthorization: 'Basic Y2xlYXI=',
      httpCustomHeaders: [],
    });
    await insertStream('lst_kafka', 'kafka', { topic: 'logs.siem' });
  }

  it('moves every sealed value to the new secret, in the v2 envelope bound to its record, and seals clear values', async () => {
    await seedUnderOld();
    const lines: string[] = [];
    const report = await resealSecrets(dataSource, { secret: NEW, oldSecret: OLD, log: (l) => lines.push(l) });
    // Four signing keys, the sealed stream's Authorization and header, the legacy one's two, the clear one.
    expect(report).toEqual({ resealed: 9, current: 0 });
    // One line per record.
    expect(lines).toHaveLength(7);
    expect(lines.join('\n')).not.toMatch(/Splunk|k-123|legacy'|acme|Y2xlYXI|PRIVATE KEY/);

    for (const key of await keyRows()) {
      expect(isCurrentEnvelope(key.private_key_encrypted)).toBe(true);
      expect(decryptSecret(key.private_key_encrypted, NEW, SealedFor.signingKey(key.kid))).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect(() => decryptSecret(key.private_key_encrypted, OLD, SealedFor.signingKey(key.kid))).toThrow(/cannot be decrypted/);
    }
    const sealed = await sinkOf('lst_sealed');
    expect(decryptSecret(sealed.httpAuthorizationSealed, NEW, SealedFor.logStreamAuthorization('lst_sealed'))).toBe('Splunk abc');
    expect(sealed.httpCustomHeaders).toEqual([{ header: 'X-Api-Key', valueSealed: expect.stringMatching(/^v2\./) }]);
    expect(decryptSecret(sealed.httpCustomHeaders[0].valueSealed, NEW, SealedFor.logStreamHeader('lst_sealed', 'x-api-key'))).toBe('k-123');
    expect(sealed).toMatchObject({ httpEndpoint: 'https://siem.example.com/in', httpContentFormat: 'JSONARRAY' });

    const legacy = await sinkOf('lst_legacy');
    expect(decryptSecret(legacy.httpAuthorizationSealed, NEW, SealedFor.logStreamAuthorization('lst_legacy'))).toBe('Bearer legacy');
    expect(JSON.stringify(legacy)).not.toContain('acme');
    expect(decryptSecret(legacy.httpCustomHeaders[0].valueSealed, NEW, SealedFor.logStreamHeader('lst_legacy', 'X-Tenant'))).toBe('acme');
    expect(legacy.httpContentFormat).toBe('JSONLINES');

    const clear = await sinkOf('lst_clear');
    expect(clear).not.toHaveProperty('httpAuthorization');
    expect(decryptSecret(clear.httpAuthorizationSealed, NEW, SealedFor.logStreamAuthorization('lst_clear'))).toBe('Basic Y2xlYXI=');
    expect(await sinkOf('lst_kafka')).toEqual({ topic: 'logs.siem' });

    // The apps, started with the new secret, sign with the current key; its public half verifies.
    const signer = await new SigningKeyStore(new SigningKeyRepository(dataSource), NEW).current();
    const [current] = await dataSource.query(`SELECT public_jwk FROM signing_keys WHERE kid = $1`, [signer.kid]);
    const signature = sign('sha256', Buffer.from('logout'), signer.privateKey);
    expect(verify('sha256', Buffer.from('logout'), createPublicKey({ key: current.public_jwk, format: 'jwk' }), signature)).toBe(true);
  });

  it('changes nothing when run again', async () => {
    await seedUnderOld();
    await resealSecrets(dataSource, { secret: NEW, oldSecret: OLD });
    const after = await everything();
    expect(await resealSecrets(dataSource, { secret: NEW, oldSecret: OLD })).toEqual({ resealed: 0, current: 9 });
    expect(await everything()).toEqual(after);
  });

  it('without an old secret upgrades the values to v2 under the one secret', async () => {
    await seedUnderOld();
    // The current key and the sealed stream's two values are v2 already.
    expect(await resealSecrets(dataSource, { secret: OLD })).toEqual({ resealed: 4, current: 5 });
    for (const key of await keyRows()) expect(isCurrentEnvelope(key.private_key_encrypted)).toBe(true);
    expect(isCurrentEnvelope((await sinkOf('lst_legacy')).httpAuthorizationSealed)).toBe(true);
  });

  it('writes nothing on a dry run', async () => {
    await seedUnderOld();
    const before = await everything();
    expect(await resealSecrets(dataSource, { secret: NEW, oldSecret: OLD, dryRun: true })).toEqual({ resealed: 9, current: 0 });
    expect(await everything()).toEqual(before);
  });

  it('writes nothing when a value opens under neither secret, and names it (never its value)', async () => {
    await seedUnderOld();
    await insertStream('lst_foreign', 'http', {
      httpEndpoint: 'https://siem.example.com/foreign',
      httpContentType: 'application/json',
      httpContentFormat: 'JSONARRAY',
      httpAuthorizationSealed: encryptSecret('Bearer foreign', 'a third secret, never configured', SealedFor.logStreamAuthorization('lst_foreign')),
      httpCustomHeaders: [],
    });
    const before = await everything();
    const failure = await resealSecrets(dataSource, { secret: NEW, oldSecret: OLD }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(UnopenableSecretsException);
    expect((failure as Error).message).toMatch(/1 sealed value\(s\) open under neither secret, nothing was re-sealed: log_streams lst_foreign httpAuthorization/);
    expect((failure as Error).message).not.toContain('foreign\'');
    expect(await everything()).toEqual(before);
  });

  it('refuses a value copied from another record: it is bound to the one it was sealed for', async () => {
    await seedUnderOld();
    const sealed = await sinkOf('lst_sealed');
    // Someone with write access to the table copies a stream's sealed Authorization into another stream.
    await insertStream('lst_copy', 'http', { ...sealed, httpEndpoint: 'https://attacker.example.com/in' });
    await expect(resealSecrets(dataSource, { secret: NEW, oldSecret: OLD })).rejects.toThrow(
      /open under neither secret, nothing was re-sealed: log_streams lst_copy httpAuthorization; log_streams lst_copy header X-Api-Key$/,
    );
  });

  it("re-seals connections' SSF push Authorization and client secret, bound to their connection, and leaves the rest of the options", async () => {
    const ssf = (id: string, secret: string, withClient: boolean) => ({
      issuer: 'https://acme.okta.com',
      audience: 'urn:acme',
      push_authorization_sealed: encryptSecret('Bearer push', secret, SealedFor.connectionSsfPushAuthorization(id)),
      ...(withClient ? { client_id: '0oa1', client_secret_sealed: encryptSecret('client-secret', secret, SealedFor.connectionSsfClientSecret(id)) } : {}),
      actions: { 'session-revoked': 'logout', 'credential-change': 'revoke-refresh-tokens' },
    });
    const insertConnection = (id: string, options: unknown) =>
      dataSource.query(`INSERT INTO connections (id, name, strategy, options) VALUES ($1, $1, 'okta', $2::jsonb)`, [id, JSON.stringify(options)]);
    const optionsOf = async (id: string) => (await dataSource.query(`SELECT options FROM connections WHERE id = $1`, [id]))[0].options;
    await insertConnection('con_both', { issuer: 'https://acme.okta.com', client_id: '0oaGtr', ssf: ssf('con_both', OLD, true) });
    await insertConnection('con_push', { ssf: ssf('con_push', OLD, false) });
    await insertConnection('con_none', { issuer: 'https://other.okta.com' });
    const lines: string[] = [];

    expect(await resealSecrets(dataSource, { secret: NEW, oldSecret: OLD, log: (l) => lines.push(l) })).toEqual({ resealed: 3, current: 0 });
    expect(lines).toEqual(['re-sealed connections con_both (ssf.push_authorization, ssf.client_secret)', 're-sealed connections con_push (ssf.push_authorization)']);
    const both = await optionsOf('con_both');
    expect(decryptSecret(both.ssf.push_authorization_sealed, NEW, SealedFor.connectionSsfPushAuthorization('con_both'))).toBe('Bearer push');
    expect(decryptSecret(both.ssf.client_secret_sealed, NEW, SealedFor.connectionSsfClientSecret('con_both'))).toBe('client-secret');
    expect({ ...both, ssf: { ...both.ssf, push_authorization_sealed: 'x', client_secret_sealed: 'x' } }).toEqual({
      issuer: 'https://acme.okta.com',
      client_id: '0oaGtr',
      ssf: { ...ssf('con_both', NEW, true), push_authorization_sealed: 'x', client_secret_sealed: 'x' },
    });
    expect(await optionsOf('con_none')).toEqual({ issuer: 'https://other.okta.com' });
    expect(await resealSecrets(dataSource, { secret: NEW, oldSecret: OLD })).toEqual({ resealed: 0, current: 3 });

    // A push Authorization copied to another connection does not open there.
    await insertConnection('con_copy', { ssf: { ...both.ssf, client_id: undefined, client_secret_sealed: undefined } });
    await expect(resealSecrets(dataSource, { secret: NEW })).rejects.toThrow(
      /open under neither secret, nothing was re-sealed: connections con_copy ssf.push_authorization$/,
    );
  });
});
