import { LogStreamEnvelope } from '@ulo/contracts';
import { httpBodiesOf } from './http-batch.format';

const envelope = (n: number): LogStreamEnvelope =>
  ({ log_id: `01K00000000000000000000${n}`, data: { log_id: `01K00000000000000000000${n}`, type: 'srrt' } }) as never;

describe('httpBodiesOf (SPEC §5 content formats)', () => {
  const batch = [envelope(1), envelope(2), envelope(3)];

  it('JSONARRAY: one request holding the batch as an array', () => {
    const bodies = httpBodiesOf('JSONARRAY', batch);
    expect(bodies).toHaveLength(1);
    expect(JSON.parse(bodies[0].body)).toEqual(batch);
    expect(bodies[0].count).toBe(3);
  });

  it('JSONLINES: one request, one envelope per line', () => {
    const bodies = httpBodiesOf('JSONLINES', batch);
    expect(bodies).toHaveLength(1);
    expect(bodies[0].body.split('\n').map((l) => JSON.parse(l))).toEqual(batch);
  });

  it('JSONOBJECT: one request per envelope, in order', () => {
    const bodies = httpBodiesOf('JSONOBJECT', batch);
    expect(bodies.map((b) => JSON.parse(b.body))).toEqual(batch);
    expect(bodies.every((b) => b.count === 1)).toBe(true);
  });

  it('sends nothing for an empty batch', () => {
    expect(httpBodiesOf('JSONARRAY', [])).toEqual([]);
  });
});
