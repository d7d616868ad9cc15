import type { LogStreamEnvelope } from '@ulo/contracts';
import type { HttpContentFormat } from '@ulo/contracts';

/**
 * SPEC §5: the request bodies of one batch. JSONARRAY: the batch as one array; JSONLINES: the
 * batch, one envelope per line; JSONOBJECT: one envelope per request.
 */
export function httpBodiesOf(format: HttpContentFormat, batch: LogStreamEnvelope[]): { body: string; count: number }[] {
  if (batch.length === 0) return [];
  switch (format) {
    case 'JSONARRAY':
      return [{ body: JSON.stringify(batch), count: batch.length }];
    case 'JSONLINES':
      return [{ body: batch.map((e) => JSON.stringify(e)).join('\n'), count: batch.length }];
    case 'JSONOBJECT':
      return batch.map((e) => ({ body: JSON.stringify(e), count: 1 }));
  }
}
