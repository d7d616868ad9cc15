import type { ClassConstructor } from 'class-transformer';
import { InvalidInputException, isPlainObject, validInput } from '../validation/valid-input';
import { invalidRequest } from './gtr.exception';
import { AliasesSubjectDto, EmailSubjectDto, IssSubSubjectDto, OpaqueSubjectDto, SubjectFormatDto } from './subject.dto';

/** RFC 9493 subject identifiers this endpoint understands (SPEC §2). */
export type Subject =
  | { format: 'iss_sub'; iss: string; sub: string }
  | { format: 'email'; email: string }
  | { format: 'opaque'; id: string }
  | { format: 'aliases'; identifiers: Exclude<Subject, { format: 'aliases' }>[] };

/** The DTO of each format. A Map, not an object: `constructor` or `__proto__` sent as a format is no format. */
const formats = new Map<string, ClassConstructor<object>>([
  ['iss_sub', IssSubSubjectDto],
  ['email', EmailSubjectDto],
  ['opaque', OpaqueSubjectDto],
  ['aliases', AliasesSubjectDto],
]);

/** Objects and arrays nested in the body; the deepest valid body (aliases) has four levels. */
export const MAX_BODY_DEPTH = 8;

/** GTR draft -03+: the body names the user in `sub_id`; drafts ≤ -02 (and Auth0's page) in `subject`. */
export function parseRevocationBody(body: unknown): Subject {
  if (!isPlainObject(body)) throw invalidRequest('the request body must be a JSON object');
  checkDepth(body);
  const hasSubId = Object.hasOwn(body, 'sub_id');
  const hasSubject = Object.hasOwn(body, 'subject');
  if (hasSubId && hasSubject) throw invalidRequest('send either sub_id or subject, not both');
  if (!hasSubId && !hasSubject) throw invalidRequest('sub_id is required');
  try {
    return parseSubject(hasSubId ? body.sub_id : body.subject, hasSubId ? 'sub_id' : 'subject', false);
  } catch (err) {
    if (err instanceof InvalidInputException) throw invalidRequest(err.message);
    throw err;
  }
}

/**
 * SPEC §2 subject formats, for a subject identifier another request carries (SPEC §9: a Security
 * Event Token's subject): `path` names it in the messages. Throws the same 400 `invalid_request`
 * as a revocation body would get.
 */
export function parseSubjectIdentifier(value: unknown, path: string): Subject {
  checkDepth(value, MAX_BODY_DEPTH - 1, path);
  try {
    return parseSubject(value, path, false);
  } catch (err) {
    if (err instanceof InvalidInputException) throw invalidRequest(err.message);
    throw err;
  }
}

/** Hostile traffic (SPEC §2): a body nested deeper than any valid one is refused, without recursion. */
function checkDepth(body: unknown, max = MAX_BODY_DEPTH, what = 'the request body'): void {
  const stack: [unknown, number][] = [[body, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > max) throw invalidRequest(`${what} is nested too deeply`);
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
}

/** SPEC §2 subject formats, each checked by its DTO; `aliases` holds identifiers of the other formats. */
function parseSubject(value: unknown, path: string, nested: boolean): Subject {
  const { format } = validInput(SubjectFormatDto, value, path, { allowUnknown: true });
  const dto = formats.get(format);
  if (!dto) throw invalidRequest(`unsupported subject format${/^[a-z0-9_.+-]{1,64}$/i.test(format) ? ` "${format}"` : ''}`);
  if (format === 'aliases' && nested) throw invalidRequest(`${path}: aliases may not be nested`);
  const subject = validInput(dto, value, path);
  if (subject instanceof AliasesSubjectDto) {
    return {
      format: 'aliases',
      identifiers: subject.identifiers.map(
        (id, i) => parseSubject(id, `${path}.identifiers[${i}]`, true) as Exclude<Subject, { format: 'aliases' }>,
      ),
    };
  }
  // A plain object, as the rest of the request sees it (and as the old parser returned it).
  return { ...subject } as Subject;
}
