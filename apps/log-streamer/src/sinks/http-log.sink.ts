import type { SerializedLogStreamEnvelope } from '@ulo/contracts';
import type { HttpLogStreamSink } from '@ulo/persistence';
import { OutboundRequestException, SafeHttpClient, SealedFor, SealedSecrets, UnsafeUrlException } from '@ulo/security';
import { httpBodiesOf } from './http-batch.format';
import { LogSink, LogSinkException, SinkTarget } from './log-sink';

/**
 * SPEC §5 `type: "http"`: POSTs through the one safe client (URL rules, private addresses refused
 * at connect time, a deadline, no redirects). Any answer but 2xx is a failed delivery.
 */
export class HttpLogSink implements LogSink {
  constructor(
    private readonly http: SafeHttpClient,
    private readonly secrets: SealedSecrets,
    /** Envelopes per JSONARRAY or JSONLINES request (LOG_STREAM_BATCH_SIZE). */
    private readonly batchSize = 100,
  ) {}

  async deliver(target: SinkTarget, batch: SerializedLogStreamEnvelope[], deadline: number): Promise<number> {
    const sink = target.sink as HttpLogStreamSink;
    // No prototype: a custom header may be named `__proto__` (a legal field name), and must stay a header.
    const headers: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const { header, value, valueSealed } of sink.httpCustomHeaders ?? []) {
      // Sealed, bound to this stream and header; a stream written before sealing holds it in the clear.
      const plain = valueSealed ? await this.opened(valueSealed, SealedFor.logStreamHeader(target.id, header), `header ${header}`) : value;
      if (plain !== undefined) headers[header.toLowerCase()] = plain;
    }
    headers['content-type'] = sink.httpContentType;
    headers['user-agent'] = 'universal-logout-log-streamer';
    // Sent exactly as configured: "Bearer …", "Basic …" or a bare token (SPEC §5).
    const authorization = sink.httpAuthorizationSealed
      ? await this.opened(sink.httpAuthorizationSealed, SealedFor.logStreamAuthorization(target.id), 'Authorization')
      : sink.httpAuthorization;
    if (authorization) headers.authorization = authorization;

    let delivered = 0;
    for (const { body, count } of httpBodiesOf(sink.httpContentFormat, batch, this.batchSize)) {
      // JSONOBJECT sends a request per event: a slow receiver must not outlast the stream's lease.
      if (delivered > 0 && Date.now() > deadline) return delivered;
      let status: number;
      let answer: string;
      try {
        const res = await this.http.send('POST', sink.httpEndpoint, { headers, body });
        status = res.status;
        answer = res.body;
      } catch (err) {
        if (err instanceof OutboundRequestException || err instanceof UnsafeUrlException) {
          throw new LogSinkException(`POST ${sink.httpEndpoint} failed: ${err.message}`, delivered);
        }
        throw err;
      }
      if (status < 200 || status > 299) {
        const excerpt = answer.slice(0, 200).replace(/\s+/g, ' ').trim();
        throw new LogSinkException(`POST ${sink.httpEndpoint} answered ${status}${excerpt ? `: ${excerpt}` : ''}`, delivered);
      }
      delivered += count;
    }
    return delivered;
  }

  private async opened(sealed: string, purpose: string, what: string): Promise<string> {
    try {
      return await this.secrets.open(sealed, purpose);
    } catch (err) {
      throw new LogSinkException(`the stream's ${what} cannot be used: ${(err as Error).message}`, 0);
    }
  }
}
