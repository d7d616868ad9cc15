import type { SerializedLogStreamEnvelope } from '@ulo/contracts';
import type { HttpContentFormat } from '@ulo/contracts';

/**
 * SPEC §5: the request bodies of the envelopes of one step, in order, each request holding at
 * most `batchSize` of them. JSONARRAY: each batch as one array; JSONLINES: each batch, one
 * envelope per line; JSONOBJECT: one envelope per request.
 */
export function httpBodiesOf(format: HttpContentFormat, envelopes: SerializedLogStreamEnvelope[], batchSize: number): { body: string; count: number }[] {
  if (format === 'JSONOBJECT') return envelopes.map((e) => ({ body: e.json, count: 1 }));
  const bodies: { body: string; count: number }[] = [];
  for (let start = 0; start < envelopes.length; start += batchSize) {
    const texts = envelopes.slice(start, start + batchSize).map((e) => e.json);
    bodies.push({ body: format === 'JSONARRAY' ? `[${texts.join(',')}]` : texts.join('\n'), count: texts.length });
  }
  return bodies;
}
