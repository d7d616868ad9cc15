import { serializedLogStreamEnvelope } from '@ulo/contracts';
import { OutboundRequestException, SafeHttpClient, SealedFor, SealedSecrets, encryptSecret } from '@ulo/security';
import { HttpLogSink } from './http-log.sink';
import { LogSinkException, SinkTarget } from './log-sink';

const envelopes = [1, 2, 3, 4].map((n) => serializedLogStreamEnvelope(`id-${n}`, `{"log_id": "id-${n}"}`));
/** The envelopes as the receiver parses them. */
const received = [1, 2, 3, 4].map((n) => ({ log_id: `id-${n}`, data: { log_id: `id-${n}` } }));

function target(format: string, extra: Record<string, unknown> = {}): SinkTarget {
  return {
    id: 'lst_1',
    type: 'http',
    sink: {
      httpEndpoint: 'https://siem.example.com/in',
      httpContentType: 'application/json',
      httpContentFormat: format,
      httpCustomHeaders: [{ header: 'X-Tenant', value: 'acme' }],
      ...extra,
    } as never,
  };
}

/** A stand-in for the safe client: answers each call by script and records it. */
function client(answers: (number | Error)[]) {
  const calls: { url: string; headers: Record<string, string>; body: string }[] = [];
  const http = {
    send: jest.fn((_method: string, url: string, options: { headers: Record<string, string>; body: string }) => {
      calls.push({ url, headers: options.headers, body: options.body });
      const answer = answers[calls.length - 1] ?? 200;
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve({ status: answer, headers: {}, body: 'busy' });
    }),
  };
  return { http: http as unknown as SafeHttpClient, calls };
}

const SECRET = 'the test sealing secret';
const sinkOf = (http: SafeHttpClient) => new HttpLogSink(http, new SealedSecrets(SECRET));

describe('HttpLogSink (SPEC §5 http sink)', () => {
  const later = () => Date.now() + 60000;

  it('sends the Authorization verbatim, the content type and the custom headers', async () => {
    const { http, calls } = client([200]);
    const sealed = encryptSecret('Splunk abc', SECRET, SealedFor.logStreamAuthorization('lst_1'));
    const delivered = await sinkOf(http).deliver(target('JSONARRAY', { httpAuthorizationSealed: sealed }), envelopes, later());
    expect(delivered).toBe(4);
    expect(calls).toHaveLength(1);
    expect(calls[0].headers).toMatchObject({ authorization: 'Splunk abc', 'content-type': 'application/json', 'x-tenant': 'acme' });
    expect(JSON.parse(calls[0].body)).toEqual(received);
  });

  it('sends a custom header named like a prototype property as a header', async () => {
    const { http, calls } = client([200]);
    await sinkOf(http).deliver(
      target('JSONARRAY', { httpCustomHeaders: [{ header: '__proto__', value: 'kept' }, { header: 'constructor', value: 'too' }] }),
      envelopes,
      later(),
    );
    expect(Object.entries(calls[0].headers)).toEqual(
      expect.arrayContaining([
        ['__proto__', 'kept'],
        ['constructor', 'too'],
      ]),
    );
  });

  it('still sends an Authorization stored in the clear by a version that did not seal it', async () => {
    const { http, calls } = client([200]);
    await sinkOf(http).deliver(target('JSONARRAY', { httpAuthorization: 'Bearer legacy' }), envelopes, later());
    expect(calls[0].headers.authorization).toBe('Bearer legacy');
  });

  it('fails the delivery, sending nothing, when the Authorization was sealed under another secret', async () => {
    const { http, calls } = client([200]);
    const sealed = encryptSecret('Splunk abc', 'a different sealing secret', SealedFor.logStreamAuthorization('lst_1'));
    const failure = await sinkOf(http)
      .deliver(target('JSONARRAY', { httpAuthorizationSealed: sealed }), envelopes, later())
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(LogSinkException);
    expect((failure as LogSinkException).message).toMatch(/Authorization cannot be used: the secret cannot be decrypted/);
    expect((failure as LogSinkException).delivered).toBe(0);
    expect(calls).toHaveLength(0);
  });

  it('opens custom header values sealed for this stream and header', async () => {
    const { http, calls } = client([200]);
    const httpCustomHeaders = [
      { header: 'X-Api-Key', valueSealed: encryptSecret('k-123', SECRET, SealedFor.logStreamHeader('lst_1', 'x-api-key')) },
      { header: 'X-Tenant', value: 'legacy in the clear' },
    ];
    await sinkOf(http).deliver(target('JSONARRAY', { httpCustomHeaders }), envelopes, later());
    expect(calls[0].headers).toMatchObject({ 'x-api-key': 'k-123', 'x-tenant': 'legacy in the clear' });
  });

  it('sends nothing when a sealed value belongs to another stream (copied between records)', async () => {
    const { http, calls } = client([200]);
    const copied = encryptSecret('Splunk abc', SECRET, SealedFor.logStreamAuthorization('lst_other'));
    await expect(sinkOf(http).deliver(target('JSONARRAY', { httpAuthorizationSealed: copied }), envelopes, later())).rejects.toThrow(
      /Authorization cannot be used: the secret cannot be decrypted/,
    );
    const header = [{ header: 'X-Api-Key', valueSealed: encryptSecret('k-123', SECRET, SealedFor.logStreamHeader('lst_1', 'x-other')) }];
    await expect(sinkOf(http).deliver(target('JSONARRAY', { httpCustomHeaders: header }), envelopes, later())).rejects.toThrow(
      /header X-Api-Key cannot be used/,
    );
    expect(calls).toHaveLength(0);
  });

  it('sends no Authorization header when none is configured', async () => {
    const { http, calls } = client([200]);
    await sinkOf(http).deliver(target('JSONLINES'), envelopes, later());
    expect(calls[0].headers).not.toHaveProperty('authorization');
  });

  it('fails on any answer but 2xx, naming the status', async () => {
    const { http } = client([503]);
    await expect(sinkOf(http).deliver(target('JSONARRAY'), envelopes, later())).rejects.toThrow(
      new LogSinkException('POST https://siem.example.com/in answered 503: busy'),
    );
  });

  it('JSONARRAY: a request per LOG_STREAM_BATCH_SIZE envelopes, and the batches delivered before a failure', async () => {
    const { http, calls } = client([200, 200]);
    const inTwos = new HttpLogSink(http, new SealedSecrets(SECRET), 2);
    expect(await inTwos.deliver(target('JSONARRAY'), envelopes, later())).toBe(4);
    expect(calls.map((c) => JSON.parse(c.body))).toEqual([received.slice(0, 2), received.slice(2)]);

    const failing = client([200, 500]);
    const failure = await new HttpLogSink(failing.http, new SealedSecrets(SECRET), 2)
      .deliver(target('JSONARRAY'), envelopes, later())
      .catch((e: LogSinkException) => e);
    expect((failure as LogSinkException).delivered).toBe(2);
  });

  it('JSONOBJECT: reports the envelopes delivered before a failure', async () => {
    const { http } = client([200, 200, new OutboundRequestException('connect ECONNREFUSED', 'ECONNREFUSED')]);
    const failure = await sinkOf(http).deliver(target('JSONOBJECT'), envelopes, later()).catch((e: LogSinkException) => e);
    expect(failure).toBeInstanceOf(LogSinkException);
    expect((failure as LogSinkException).delivered).toBe(2);
    expect((failure as LogSinkException).message).toMatch(/failed: connect ECONNREFUSED/);
  });

  it('JSONOBJECT: starts no request after the deadline, returning what was delivered', async () => {
    const { http, calls } = client([]);
    const delivered = await sinkOf(http).deliver(target('JSONOBJECT'), envelopes, Date.now() - 1);
    expect(delivered).toBe(1);
    expect(calls).toHaveLength(1);
  });
});
