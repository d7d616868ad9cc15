import { invalidRequest } from './gtr.exception';

/** RFC 9493 subject identifiers this endpoint understands (SPEC §2). */
export type Subject =
  | { format: 'iss_sub'; iss: string; sub: string }
  | { format: 'email'; email: string }
  | { format: 'opaque'; id: string }
  | { format: 'aliases'; identifiers: Exclude<Subject, { format: 'aliases' }>[] };

/** Members per format. A Map, not an object: `constructor` or `__proto__` sent as a format is no format. */
const members = new Map<string, readonly string[]>([
  ['iss_sub', ['iss', 'sub']],
  ['email', ['email']],
  ['opaque', ['id']],
  ['aliases', ['identifiers']],
]);

/** Identifiers in one `aliases` subject: each is a lookup, and Okta sends a handful at most. */
export const MAX_ALIASES = 20;
/** Characters in one member (an issuer URL, an email address, a user id). */
export const MAX_MEMBER_LENGTH = 1024;
/** Objects and arrays nested in the body; the deepest valid body (aliases) has four levels. */
export const MAX_BODY_DEPTH = 8;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** GTR draft -03+: the body names the user in `sub_id`; drafts ≤ -02 (and Auth0's page) in `subject`. */
export function parseRevocationBody(body: unknown): Subject {
  if (!isObject(body)) throw invalidRequest('the request body must be a JSON object');
  checkDepth(body);
  const hasSubId = Object.hasOwn(body, 'sub_id');
  const hasSubject = Object.hasOwn(body, 'subject');
  if (hasSubId && hasSubject) throw invalidRequest('send either sub_id or subject, not both');
  if (!hasSubId && !hasSubject) throw invalidRequest('sub_id is required');
  return parseSubject(hasSubId ? body.sub_id : body.subject, hasSubId ? 'sub_id' : 'subject', false);
}

/** Hostile traffic (SPEC §2): a body nested deeper than any valid one is refused, without recursion. */
function checkDepth(body: unknown): void {
  const stack: [unknown, number][] = [[body, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_BODY_DEPTH) throw invalidRequest('the request body is nested too deeply');
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
}

function parseSubject(value: unknown, path: string, nested: boolean): Subject {
  if (!isObject(value)) throw invalidRequest(`${path} must be an object`);
  const format = value.format;
  if (typeof format !== 'string' || format.length === 0) throw invalidRequest(`${path}.format is required`);
  const allowed = members.get(format);
  if (!allowed) throw invalidRequest(`unsupported subject format${/^[a-z0-9_.+-]{1,64}$/i.test(format) ? ` "${format}"` : ''}`);
  if (format === 'aliases' && nested) throw invalidRequest(`${path}: aliases may not be nested`);
  const extra = Object.keys(value).filter((k) => k !== 'format' && !allowed.includes(k));
  if (extra.length) throw invalidRequest(`${path} has unknown member(s): ${extra.map((k) => k.slice(0, 64)).join(', ')}`);

  if (format === 'aliases') {
    const identifiers = value.identifiers;
    if (!Array.isArray(identifiers) || identifiers.length === 0) {
      throw invalidRequest(`${path}.identifiers must be a non-empty array`);
    }
    if (identifiers.length > MAX_ALIASES) throw invalidRequest(`${path}.identifiers may hold at most ${MAX_ALIASES} identifiers`);
    return {
      format: 'aliases',
      identifiers: identifiers.map(
        (id, i) => parseSubject(id, `${path}.identifiers[${i}]`, true) as Exclude<Subject, { format: 'aliases' }>,
      ),
    };
  }
  const out: Record<string, string> = { format };
  for (const key of allowed) {
    const v = value[key];
    if (typeof v !== 'string' || v.trim().length === 0) throw invalidRequest(`${path}.${key} is required`);
    // PostgreSQL refuses NUL in text; no identifier holds control characters or runs this long.
    if (v.length > MAX_MEMBER_LENGTH) throw invalidRequest(`${path}.${key} is longer than ${MAX_MEMBER_LENGTH} characters`);
    if (CONTROL.test(v)) throw invalidRequest(`${path}.${key} contains control characters`);
    out[key] = v;
  }
  if (format === 'email' && !/^[^@\s]+@[^@\s]+$/.test(out.email)) throw invalidRequest(`${path}.email is not an email address`);
  return out as Subject;
}
