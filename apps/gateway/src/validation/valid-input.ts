import type { ClassConstructor } from 'class-transformer';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';

/** Input refused by a DTO: the message names the member (`sink.httpCustomHeaders[0].header must be …`). */
export class InvalidInputException extends Error {}

export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The members a DTO class declares: those with at least one class-validator decorator. */
function declaredMembers(type: ClassConstructor<object>): Set<string> {
  return new Set(getMetadataStorage().getTargetValidationMetadatas(type, '', true, false).map((m) => m.propertyName));
}

/** The first failure, as `path.member message`; a member's checks run in the order they are declared. */
function describe(error: ValidationError, path: string): string {
  const at = `${path}.${error.property}`;
  const messages = Object.values(error.constraints ?? {});
  if (messages.length > 0) return `${at} ${messages[0]}`;
  return error.children?.length ? describe(error.children[0], at) : `${at} is invalid`;
}

export interface ValidInputOptions {
  /** Members the DTO does not declare are kept (connection options carry the IdP's own settings). */
  allowUnknown?: boolean;
  /** How to say which members are unknown (default: `<path> has unknown member(s): …`). */
  unknownMessage?: (path: string, members: string[]) => string;
  /** How to say that the input is not an object (default: `<path> must be an object`). */
  notObjectMessage?: (path: string) => string;
}

/**
 * The HTTP edge's one validation style (class-validator DTOs) for input that a body carries
 * nested, or whose shape depends on other input: a connection's options (by strategy), a log
 * stream's sink (by type), the GTR subject (by format). The ValidationPipe validates the bodies
 * themselves with the same decorators.
 *
 * Unknown members are refused by their names as sent, on the raw object, `__proto__`,
 * `constructor` and `toString` included (SPEC §2 "Hostile traffic", §7). Returns the validated
 * instance.
 */
export function validInput<T extends object>(type: ClassConstructor<T>, raw: unknown, path: string, options: ValidInputOptions = {}): T {
  if (!isPlainObject(raw)) throw new InvalidInputException(options.notObjectMessage?.(path) ?? `${path} must be an object`);
  const declared = declaredMembers(type);
  if (!options.allowUnknown) {
    const unknown = Object.keys(raw)
      .filter((k) => !declared.has(k))
      .map((k) => k.slice(0, 64));
    if (unknown.length) {
      throw new InvalidInputException(options.unknownMessage?.(path, unknown) ?? `${path} has unknown member(s): ${unknown.join(', ')}`);
    }
  }
  // Only declared members are copied, as they are: class-transformer is not used, since it walks
  // nested values and fails (a TypeError, not a 400) on a nested member named `constructor`.
  const instance: T = Object.assign(Object.create(type.prototype) as T, Object.fromEntries(Object.entries(raw).filter(([k]) => declared.has(k))));
  const [error] = validateSync(instance, { stopAtFirstError: true, forbidUnknownValues: true, validationError: { target: false, value: false } });
  if (error) throw new InvalidInputException(describe(error, path));
  return instance;
}

/** Each element of `raw` (an array) validated with `type`; `path` names the array. */
export function validInputs<T extends object>(type: ClassConstructor<T>, raw: unknown[], path: string, options?: ValidInputOptions): T[] {
  return raw.map((item, i) => validInput(type, item, `${path}[${i}]`, options));
}
