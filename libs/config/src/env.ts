import { z } from 'zod';

export class InvalidConfigException extends Error {}

export const bool = z
  .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');

export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

export const httpUrl = z
  .string()
  .url()
  // After a failed .url() zod still runs the refinement: it must not throw on a non-URL.
  .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL');

/** A secret: required, at least 16 characters (SPEC §1: a missing one stops the process, naming it). */
export const secret = z.string({ required_error: 'is required (at least 16 characters)' }).min(16, 'must be at least 16 characters');

/**
 * Messages that never quote the rejected value: a configuration error goes to stderr and to log
 * collectors, and the value may be a secret (SIGNING_KEY_ENCRYPTION_SECRET, a password in
 * DATABASE_URL). zod's own enum message would quote it.
 */
const withoutValues: z.ZodErrorMap = (issue, ctx) => {
  if (issue.code === z.ZodIssueCode.invalid_enum_value) return { message: `must be one of: ${issue.options.join(', ')}` };
  if (issue.code === z.ZodIssueCode.invalid_type) {
    // A missing variable: the schema's own words (a secret says how long it must be), else "is required".
    if (issue.received === 'undefined') return { message: ctx.defaultError === 'Required' ? 'is required' : ctx.defaultError };
    return { message: `must be a ${issue.expected}` };
  }
  return { message: ctx.defaultError };
};

/**
 * Validates the variables `schema` names (and only those: an app never reads another app's
 * variables); the first invalid one is reported by name, never with its value (SPEC §1).
 */
export function parseEnv<S extends z.AnyZodObject>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const present = Object.fromEntries(
    Object.keys(schema.shape)
      .filter((key) => Object.hasOwn(env, key) && env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  );
  const parsed = schema.safeParse(present, { errorMap: withoutValues });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidConfigException(`invalid configuration: ${String(issue.path[0])} ${issue.message}`);
  }
  return parsed.data;
}

/** For main.ts and the commands: load or exit with one line naming the variable (SPEC §1). */
export function loadOrExit<C>(load: (env: NodeJS.ProcessEnv) => C, env: NodeJS.ProcessEnv = process.env): C {
  try {
    return load(env);
  } catch (err) {
    if (err instanceof InvalidConfigException) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
}
