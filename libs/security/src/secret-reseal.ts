import type { DataSource, EntityManager } from 'typeorm';
import {
  ConnectionRepository,
  LogStreamRepository,
  SigningKeyRepository,
  type HttpCustomHeader,
  type HttpLogStreamSink,
  type StoredSsfOptions,
} from '@ulo/persistence';
import { SealedFor, decryptSecretAsync, encryptSecretAsync, isCurrentEnvelope } from './key-encryption';

export interface ResealOptions {
  /** SIGNING_KEY_ENCRYPTION_SECRET: every value is sealed under it afterwards. */
  secret: string;
  /** SIGNING_KEY_ENCRYPTION_SECRET_OLD: the secret values may be sealed under now (tried after `secret`). */
  oldSecret?: string;
  /** Opens and re-seals in memory, writes nothing. */
  dryRun?: boolean;
  /** One line per value re-sealed or not openable; never a value. */
  log?: (line: string) => void;
}

export interface ResealReport {
  /** Values rewritten: moved to the new secret, upgraded to the v2 envelope, or sealed from the clear. */
  resealed: number;
  /** Values already in the v2 envelope under `secret`, left as they are. */
  current: number;
}

/** Some values open under neither secret: nothing was written. */
export class UnopenableSecretsException extends Error {
  constructor(readonly values: string[]) {
    super(`${values.length} sealed value(s) open under neither secret, nothing was re-sealed: ${values.join('; ')}`);
  }
}

/** How often the whole write is tried again when an app changed a record meanwhile. */
const ATTEMPTS = 3;

interface Change {
  /** e.g. `signing_keys 2b0c…`, for the report. */
  what: string;
  /** Values of the record sealed anew. */
  values: number;
  /** Writes the record, in the transaction, if it is still as read; false if it changed meanwhile. */
  apply: (tx: EntityManager) => Promise<boolean>;
}

class ConcurrentChangeException extends Error {}

/**
 * `npm run secrets:reseal`: every sealed value of the database (private signing keys, log stream
 * Authorization headers and custom header values, connections' SSF push Authorization and client
 * secret) opened under the old or the current secret and
 * sealed again under the current one, in the v2 envelope bound to its record; values a version
 * before sealing kept in the clear are sealed too. All or nothing: every value is opened before
 * anything is written, and the writes are one transaction, each conditional on the record being as
 * read (an app that changed one meanwhile makes the command start over). Running it again changes
 * nothing.
 */
export async function resealSecrets(dataSource: DataSource, options: ResealOptions): Promise<ResealReport> {
  for (let attempt = 1; ; attempt++) {
    const { changes, current } = await plan(dataSource, options);
    const report = { resealed: changes.reduce((n, c) => n + c.values, 0), current };
    if (options.dryRun || changes.length === 0) return report;
    try {
      await write(dataSource, changes);
      for (const change of changes) options.log?.(`re-sealed ${change.what}`);
      return report;
    } catch (err) {
      if (!(err instanceof ConcurrentChangeException) || attempt >= ATTEMPTS) throw err;
      options.log?.(`${err.message}; starting over`);
    }
  }
}

async function plan(dataSource: DataSource, options: ResealOptions): Promise<{ changes: Change[]; current: number }> {
  const opener = new Opener(options);
  const changes: Change[] = [];
  const signingKeys = new SigningKeyRepository(dataSource);
  const logStreams = new LogStreamRepository(dataSource);

  const keys = [...(await signingKeys.list())].sort((a, b) => (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0));
  for (const key of keys) {
    const what = `signing_keys ${key.kid} (private key)`;
    const stored = key.privateKeyEncrypted;
    const resealed = await opener.resealed(stored, SealedFor.signingKey(key.kid), what);
    if (resealed !== undefined) {
      changes.push({ what, values: 1, apply: (tx) => signingKeys.replaceSealed(tx, key.kid, resealed, stored) });
    }
  }

  for (const { id, sink } of await logStreams.httpSinks()) {
    const { httpAuthorization, httpAuthorizationSealed, httpCustomHeaders, ...rest } = sink;
    const next: HttpLogStreamSink = { ...rest, httpCustomHeaders: [] };
    const what: string[] = [];

    const purpose = SealedFor.logStreamAuthorization(id);
    if (httpAuthorizationSealed !== undefined) {
      const resealed = await opener.resealed(httpAuthorizationSealed, purpose, `log_streams ${id} httpAuthorization`);
      next.httpAuthorizationSealed = resealed ?? httpAuthorizationSealed;
      if (resealed !== undefined) what.push('httpAuthorization');
    } else if (httpAuthorization !== undefined) {
      next.httpAuthorizationSealed = await encryptSecretAsync(httpAuthorization, options.secret, purpose);
      what.push('httpAuthorization (was in the clear)');
    }

    for (const header of httpCustomHeaders ?? []) {
      const headerPurpose = SealedFor.logStreamHeader(id, header.header);
      const stored: HttpCustomHeader = { header: header.header };
      if (header.valueSealed !== undefined) {
        const resealed = await opener.resealed(header.valueSealed, headerPurpose, `log_streams ${id} header ${header.header}`);
        stored.valueSealed = resealed ?? header.valueSealed;
        if (resealed !== undefined) what.push(`header ${header.header}`);
      } else if (header.value !== undefined) {
        stored.valueSealed = await encryptSecretAsync(header.value, options.secret, headerPurpose);
        what.push(`header ${header.header} (was in the clear)`);
      }
      next.httpCustomHeaders.push(stored);
    }

    if (what.length > 0) {
      changes.push({
        what: `log_streams ${id} (${what.join(', ')})`,
        values: what.length,
        apply: (tx) => logStreams.replaceSink(tx, id, next, sink),
      });
    }
  }

  const connections = new ConnectionRepository(dataSource);
  for (const { id, ssf } of await connections.ssfOptions()) {
    const next: StoredSsfOptions = { ...ssf };
    const what: string[] = [];
    const sealed: [keyof StoredSsfOptions & `${string}_sealed`, string, string][] = [
      ['push_authorization_sealed', SealedFor.connectionSsfPushAuthorization(id), 'push_authorization'],
      ['client_secret_sealed', SealedFor.connectionSsfClientSecret(id), 'client_secret'],
    ];
    for (const [member, purpose, name] of sealed) {
      const stored = ssf[member];
      if (typeof stored !== 'string') continue;
      const resealed = await opener.resealed(stored, purpose, `connections ${id} ssf.${name}`);
      if (resealed === undefined) continue;
      next[member] = resealed;
      what.push(`ssf.${name}`);
    }
    if (what.length > 0) {
      changes.push({
        what: `connections ${id} (${what.join(', ')})`,
        values: what.length,
        apply: (tx) => connections.replaceSsfOptions(tx, id, next, ssf),
      });
    }
  }

  if (opener.unopenable.length > 0) throw new UnopenableSecretsException(opener.unopenable);
  return { changes, current: opener.current };
}

/** One transaction; a record changed since it was read makes the whole write roll back. */
async function write(dataSource: DataSource, changes: Change[]): Promise<void> {
  await dataSource.transaction(async (tx) => {
    for (const change of changes) {
      if (!(await change.apply(tx))) throw new ConcurrentChangeException(`${change.what} changed while re-sealing`);
    }
  });
}

/** Opens a value under the current secret, then the old one, and seals it again when needed. */
class Opener {
  current = 0;
  readonly unopenable: string[] = [];

  constructor(private readonly options: ResealOptions) {}

  /** The value sealed anew, or undefined when it is current (or cannot be opened: then listed). */
  async resealed(sealed: string, purpose: string, what: string): Promise<string | undefined> {
    const secrets = [this.options.secret, ...(this.options.oldSecret ? [this.options.oldSecret] : [])];
    for (const [i, secret] of secrets.entries()) {
      let plaintext: string;
      try {
        plaintext = await decryptSecretAsync(sealed, secret, purpose);
      } catch {
        continue;
      }
      if (i === 0 && isCurrentEnvelope(sealed)) {
        this.current++;
        return undefined;
      }
      return encryptSecretAsync(plaintext, this.options.secret, purpose);
    }
    this.unopenable.push(what);
    this.options.log?.(`cannot open ${what} under either secret`);
    return undefined;
  }
}
