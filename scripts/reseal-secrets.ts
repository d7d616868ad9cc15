/**
 * npm run secrets:reseal [-- --dry-run]
 *
 * Re-seals every secret the database holds at rest (private signing keys, log streams'
 * httpAuthorization and custom header values, connections' SSF push_authorization and
 * client_secret) under SIGNING_KEY_ENCRYPTION_SECRET, in the current
 * envelope (v2, bound to its record). Each value is opened under SIGNING_KEY_ENCRYPTION_SECRET or,
 * failing that, SIGNING_KEY_ENCRYPTION_SECRET_OLD; values an older version kept in the clear are
 * sealed too. Every value is opened before anything is written, and the writes are one
 * transaction: a value that opens under neither secret stops the command (exit 1) with nothing
 * changed. Running it again changes nothing. --dry-run opens everything and writes nothing.
 *
 * The secrets come from the environment, as for the apps, never from the command line (which
 * `ps` and shell history would show). Rotating the secret (README, "Secrets and log streams"):
 *   SIGNING_KEY_ENCRYPTION_SECRET_OLD=<current> SIGNING_KEY_ENCRYPTION_SECRET=<new> npm run secrets:reseal
 * then restart every app with the new SIGNING_KEY_ENCRYPTION_SECRET. Without _OLD, the command
 * upgrades the values to the current envelope under the one secret.
 */
import { loadOrExit, loadResealConfig } from '@ulo/config';
import { createDataSource } from '@ulo/persistence';
import { UnopenableSecretsException, resealSecrets } from '@ulo/security';

const USAGE = 'usage: npm run secrets:reseal [-- --dry-run]';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.find((a) => a !== '--dry-run');
  if (unknown !== undefined) {
    process.stderr.write(`unknown argument ${JSON.stringify(unknown)}\n${USAGE}\n`);
    process.exit(64);
  }
  const dryRun = args.includes('--dry-run');
  const config = loadOrExit(loadResealConfig);
  const secret = config.security.signingKeyEncryptionSecret;
  const oldSecret = config.security.previousSigningKeyEncryptionSecret;
  const dataSource = createDataSource(config.database.url);
  await dataSource.initialize();
  try {
    const { resealed, current } = await resealSecrets(dataSource, {
      secret,
      oldSecret,
      dryRun,
      log: (line) => process.stdout.write(`${line}\n`),
    });
    process.stdout.write(`${dryRun ? 'would re-seal' : 're-sealed'} ${resealed}, already current ${current}\n`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch((err: Error) => {
  const reason = err instanceof UnopenableSecretsException ? err.message : `${err.name}: ${err.message}`;
  process.stderr.write(`re-seal failed: ${reason}\n`);
  process.exit(1);
});
