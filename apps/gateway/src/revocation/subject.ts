import { invalidRequest } from './gtr.exception';

/** RFC 9493 subject identifiers this endpoint understands (SPEC §2). */
export type Subject =
  | { format: 'iss_sub'; iss: string; sub: string }
  | { format: 'email'; email: string }
  | { format: 'opaque'; id: string }
  | { format: 'aliases'; identifiers: Exclude<Subject, { format: 'aliases' }>[] };

const members: Record<string, string[]> = {
  iss_sub: ['iss', 'sub'],
  email: ['email'],
  opaque: ['id'],
  aliases: ['identifiers'],
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** GTR draft -03+: the body names the user in `sub_id`; drafts ≤ -02 (and Auth0's page) in `subject`. */
export function parseRevocationBody(body: unknown): Subject {
  if (!isObject(body)) throw invalidRequest('the request body must be a JSON object');
  const hasSubId = 'sub_id' in body;
  const hasSubject = 'subject' in body;
  if (hasSubId && hasSubject) throw invalidRequest('send either sub_id or subject, not both');
  if (!hasSubId && !hasSubject) throw invalidRequest('sub_id is required');
  return parseSubject(hasSubId ? body.sub_id : body.subject, hasSubId ? 'sub_id' : 'subject', false);
}

function parseSubject(value: unknown, path: string, nested: boolean): Subject {
  if (!isObject(value)) throw invalidRequest(`${path} must be an object`);
  const format = value.format;
  if (typeof format !== 'string' || format.length === 0) throw invalidRequest(`${path}.format is required`);
  const allowed = members[format];
  if (!allowed) throw invalidRequest(`unsupported subject format "${format}"`);
  if (format === 'aliases' && nested) throw invalidRequest(`${path}: aliases may not be nested`);
  const extra = Object.keys(value).filter((k) => k !== 'format' && !allowed.includes(k));
  if (extra.length) throw invalidRequest(`${path} has unknown member(s): ${extra.join(', ')}`);

  if (format === 'aliases') {
    const identifiers = value.identifiers;
    if (!Array.isArray(identifiers) || identifiers.length === 0) {
      throw invalidRequest(`${path}.identifiers must be a non-empty array`);
    }
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
    out[key] = v;
  }
  if (format === 'email' && !/^[^@\s]+@[^@\s]+$/.test(out.email)) throw invalidRequest(`${path}.email is not an email address`);
  return out as Subject;
}
