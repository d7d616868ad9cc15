import { dropDatabase } from './database';
import { TEST_DATABASE_ENV } from './test-environment';

export default async function globalTeardown(): Promise<void> {
  const url = process.env[TEST_DATABASE_ENV];
  if (!url || process.env.KEEP_TEST_DATABASE === 'true') return;
  await dropDatabase(url);
}
