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
  ])('rejects %s with invalid_request', (_name, body, message) => {
    expect(() => parseRevocationBody(body)).toThrow(message);
    try {
      parseRevocationBody(body);
    } catch (err) {
      expect(err).toMatchObject({ status: 400, error: 'invalid_request' });
    }
  });
});
