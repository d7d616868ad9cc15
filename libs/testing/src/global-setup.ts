import 'tsconfig-paths/register';
import { migrate } from '@ulo/persistence';
import { TEST_DATABASE_ENV, TEST_PREFIX_ENV, uniqueSuffix } from './test-environment';

/** One database and one topic prefix per test run, so that runs never see each other's data. */
export default async function globalSetup(): Promise<void> {
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/universal_logout');
  const suffix = uniqueSuffix();
  base.pathname = `/ulo_test_${suffix}`;
  process.env[TEST_DATABASE_ENV] = base.toString();
  process.env[TEST_PREFIX_ENV] = `test.${suffix}.`;
  await migrate(base.toString());
}
