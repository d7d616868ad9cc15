import { serializedLogStreamEnvelope } from '@ulo/contracts';
import { httpBodiesOf } from './http-batch.format';

/** The envelope of event n as a receiver parses it. */
const parsed = (n: number) => ({ log_id: `01K00000000000000000000${n}`, data: { log_id: `01K00000000000000000000${n}`, type: 'srrt' } });
/** Event n as it leaves the store: its JSON text as PostgreSQL prints jsonb. */
const envelope = (n: number) =>
  serializedLogStreamEnvelope(`01K00000000000000000000${n}`, `{"type": "srrt", "log_id": "01K00000000000000000000${n}"}`);

describe('httpBodiesOf (SPEC §5 content formats)', () => {
  const batch = [envelope(1), envelope(2), envelope(3)];
  const received = [parsed(1), parsed(2), parsed(3)];

  it('JSONARRAY: one request holding the batch as an array', () => {
    const bodies = httpBodiesOf('JSONARRAY', batch, 100);
    expect(bodies).toHaveLength(1);
    expect(JSON.parse(bodies[0].body)).toEqual(received);
    expect(bodies[0].count).toBe(3);
  });

  it('JSONLINES: one request, one envelope per line', () => {
    const bodies = httpBodiesOf('JSONLINES', batch, 100);
    expect(bodies).toHaveLength(1);
    expect(bodies[0].body.split('\n').map((l) => JSON.parse(l))).toEqual(received);
  });

  it('JSONOBJECT: one request per envelope, in order', () => {
    const bodies = httpBodiesOf('JSONOBJECT', batch, 100);
    expect(bodies.map((b) => JSON.parse(b.body))).toEqual(received);
    expect(bodies.every((b) => b.count === 1)).toBe(true);
  });

  it('JSONARRAY and JSONLINES: a request per batch of at most batchSize envelopes, in order', () => {
    const step = [1, 2, 3, 4, 5, 6, 7].map(envelope);
    const arrays = httpBodiesOf('JSONARRAY', step, 3);
    expect(arrays.map((b) => b.count)).toEqual([3, 3, 1]);
    expect(arrays.map((b) => JSON.parse(b.body))).toEqual([
      [parsed(1), parsed(2), parsed(3)],
      [parsed(4), parsed(5), parsed(6)],
      [parsed(7)],
    ]);
    const lines = httpBodiesOf('JSONLINES', step, 3);
    expect(lines.map((b) => b.count)).toEqual([3, 3, 1]);
    expect(lines[1].body.split('\n').map((l) => JSON.parse(l))).toEqual([parsed(4), parsed(5), parsed(6)]);
  });

  it('keeps an event\'s text as stored, new lines in its strings escaped', () => {
    const event = serializedLogStreamEnvelope('01K1', '{"log_id": "01K1", "description": "line one\\nline two"}');
    const [body] = httpBodiesOf('JSONLINES', [event, event], 100);
    expect(body.body.split('\n')).toHaveLength(2);
    expect(JSON.parse(body.body.split('\n')[1])).toEqual({ log_id: '01K1', data: { log_id: '01K1', description: 'line one\nline two' } });
  });

  it('sends nothing for an empty batch', () => {
    expect(httpBodiesOf('JSONARRAY', [], 100)).toEqual([]);
    expect(httpBodiesOf('JSONOBJECT', [], 100)).toEqual([]);
  });
});
