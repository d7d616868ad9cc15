import { parseRevocationBody } from './subject';

describe('GTR request body (SPEC §2)', () => {
  it.each([
    [{ sub_id: { format: 'iss_sub', iss: 'https://acme.okta.com', sub: '00u1' } }, { format: 'iss_sub', iss: 'https://acme.okta.com', sub: '00u1' }],
    [{ subject: { format: 'iss_sub', iss: 'https://i', sub: 's' } }, { format: 'iss_sub', iss: 'https://i', sub: 's' }],
    [{ sub_id: { format: 'email', email: 'Ann@Example.com' } }, { format: 'email', email: 'Ann@Example.com' }],
    [{ sub_id: { format: 'opaque', id: 'auth0|abc' } }, { format: 'opaque', id: 'auth0|abc' }],
    [
      { sub_id: { format: 'aliases', identifiers: [{ format: 'email', email: 'a@b.c' }, { format: 'opaque', id: 'u1' }] } },
      { format: 'aliases', identifiers: [{ format: 'email', email: 'a@b.c' }, { format: 'opaque', id: 'u1' }] },
    ],
    [
      { sub_id: { format: 'aliases', identifiers: Array(20).fill({ format: 'opaque', id: 'u' }) } },
      { format: 'aliases', identifiers: Array(20).fill({ format: 'opaque', id: 'u' }) },
    ],
  ])('accepts %j', (body, expected) => {
    expect(parseRevocationBody(body)).toEqual(expected);
  });

  it.each([
    ['an array', [], /must be a JSON object/],
    ['null', null, /must be a JSON object/],
    ['neither key', { user: 'x' }, /sub_id is required/],
    ['both keys', { sub_id: { format: 'opaque', id: 'a' }, subject: { format: 'opaque', id: 'a' } }, /not both/],
    ['sub_id not an object', { sub_id: 'x' }, /sub_id must be an object/],
    ['no format', { sub_id: { iss: 'a', sub: 'b' } }, /format is required/],
    ['unsupported format', { sub_id: { format: 'phone_number', phone_number: '+1' } }, /unsupported subject format "phone_number"/],
    ['missing sub', { sub_id: { format: 'iss_sub', iss: 'https://i' } }, /sub_id.sub is required/],
    ['empty iss', { sub_id: { format: 'iss_sub', iss: '', sub: 's' } }, /sub_id.iss is required/],
    ['non-string id', { sub_id: { format: 'opaque', id: 7 } }, /sub_id.id is required/],
    ['extra member', { sub_id: { format: 'email', email: 'a@b.c', name: 'x' } }, /unknown member\(s\): name/],
    ['bad email', { sub_id: { format: 'email', email: 'nope' } }, /not an email address/],
    ['empty aliases', { sub_id: { format: 'aliases', identifiers: [] } }, /non-empty array/],
    [
      'nested aliases',
      { sub_id: { format: 'aliases', identifiers: [{ format: 'aliases', identifiers: [{ format: 'opaque', id: 'a' }] }] } },
      /may not be nested/,
    ],
    ['bad alias member', { sub_id: { format: 'aliases', identifiers: [{ format: 'opaque' }] } }, /identifiers\[0\].id is required/],
    // Hostile traffic (SPEC §2): prototype property names are no format and no member.
    ...['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'].map(
      (name) => [`format "${name}"`, { sub_id: { format: name } }, /unsupported subject format/],
    ),
    ...['constructor', '__proto__', 'toString', 'hasOwnProperty'].map(
      (name) => [`member "${name}"`, JSON.parse(`{"sub_id":{"format":"opaque","id":"u","${name}":"x"}}`), /unknown member/],
    ),
    // Found by the fuzz test: a nested member named `constructor` once made the DTO library throw (a 500).
    ['an alias that is only a "constructor" member', JSON.parse('{"subject":{"format":"aliases","identifiers":[{"constructor":{}}]}}'), /identifiers\[0\].format is required/],
    ['an alias with format "constructor"', { sub_id: { format: 'aliases', identifiers: [{ format: 'constructor' }] } }, /unsupported/],
    ['sub_id given as an own __proto__ key only', JSON.parse('{"__proto__":{"sub_id":{"format":"opaque","id":"u"}}}'), /sub_id is required/],
    ['more than 20 aliases', { sub_id: { format: 'aliases', identifiers: Array(21).fill({ format: 'opaque', id: 'u' }) } }, /at most 20/],
    ['a member with NUL', { sub_id: { format: 'opaque', id: 'a\u0000b' } }, /control characters/],
    ['a member with a line break', { sub_id: { format: 'iss_sub', iss: 'https://i\n', sub: 's' } }, /control characters/],
    ['an overlong member', { sub_id: { format: 'opaque', id: 'u'.repeat(1025) } }, /longer than 1024/],
    ['deep nesting', { sub_id: { format: 'opaque', id: 'u' }, x: JSON.parse('['.repeat(9) + ']'.repeat(9)) }, /nested too deeply/],
    ['deep nesting in a member', { sub_id: { format: 'opaque', id: JSON.parse('{"a":'.repeat(20) + '1' + '}'.repeat(20)) } }, /nested too deeply/],
  ] as [string, unknown, RegExp][])('rejects %s with invalid_request', (_name, body, message) => {
    expect(() => parseRevocationBody(body)).toThrow(message);
    try {
      parseRevocationBody(body);
    } catch (err) {
      expect(err).toMatchObject({ status: 400, error: 'invalid_request' });
    }
  });
});
