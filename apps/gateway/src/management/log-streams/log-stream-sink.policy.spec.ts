import { InvalidLogStreamException, validateFilters, validateHttpSink, validateKafkaSink } from './log-stream-sink.policy';

describe('log stream sinks and filters (SPEC §5, URL rules of SPEC §4)', () => {
  describe('http sink', () => {
    it('applies the defaults and keeps the authorization verbatim', () => {
      expect(validateHttpSink({ httpEndpoint: 'https://siem.example.com/in', httpAuthorization: 'Splunk abc==' }, false)).toEqual({
        httpEndpoint: 'https://siem.example.com/in',
        httpAuthorization: 'Splunk abc==',
        httpContentType: 'application/json',
        httpContentFormat: 'JSONARRAY',
        httpCustomHeaders: [],
      });
    });

    it('accepts every content format, a media type with parameters and custom headers', () => {
      for (const format of ['JSONARRAY', 'JSONLINES', 'JSONOBJECT']) {
        const sink = validateHttpSink(
          {
            httpEndpoint: 'https://siem.example.com/in',
            httpContentFormat: format,
            httpContentType: 'application/x-ndjson; charset=utf-8',
            httpCustomHeaders: [{ header: 'X-Tenant', value: 'acme' }],
          },
          false,
        );
        expect(sink.httpContentFormat).toBe(format);
        expect(sink.httpCustomHeaders).toEqual([{ header: 'X-Tenant', value: 'acme' }]);
      }
    });

    it.each([
      [{}, /sink.httpEndpoint is required/],
      [{ httpEndpoint: 'http://siem.example.com' }, /sink.httpEndpoint must use https/],
      [{ httpEndpoint: 'https://127.0.0.1/in' }, /sink.httpEndpoint must not point at a loopback or private network address/],
      [{ httpEndpoint: 'https://10.1.2.3/in' }, /private network/],
      [{ httpEndpoint: 'https://siem.example.com/in#x' }, /fragment/],
      [{ httpEndpoint: 'not a url' }, /absolute URL/],
      [{ httpEndpoint: 'https://siem.example.com', topic: 't' }, /sink.topic is not a member of an http sink/],
      [{ httpEndpoint: 'https://siem.example.com', httpContentFormat: 'XML' }, /httpContentFormat must be one of: JSONARRAY, JSONLINES, JSONOBJECT/],
      [{ httpEndpoint: 'https://siem.example.com', httpContentType: 'json' }, /media type/],
      [{ httpEndpoint: 'https://siem.example.com', httpAuthorization: 'Bearer a\r\nX-Evil: 1' }, /line breaks/],
      [{ httpEndpoint: 'https://siem.example.com', httpAuthorization: '' }, /httpAuthorization must be a non-empty string/],
      [{ httpEndpoint: 'https://siem.example.com', httpCustomHeaders: { a: 'b' } }, /must be an array/],
      [{ httpEndpoint: 'https://siem.example.com', httpCustomHeaders: [{ header: 'Authorization', value: 'x' }] }, /set by the service/],
      [{ httpEndpoint: 'https://siem.example.com', httpCustomHeaders: [{ header: 'bad header', value: 'x' }] }, /header name/],
      [
        { httpEndpoint: 'https://siem.example.com', httpCustomHeaders: [{ header: 'X-A', value: '1' }, { header: 'x-a', value: '2' }] },
        /appears more than once/,
      ],
      [{ httpEndpoint: 'https://siem.example.com', httpCustomHeaders: [{ header: 'X-A' }] }, /value must be a non-empty string/],
      [{ httpEndpoint: 'https://siem.example.com', httpCustomHeaders: [JSON.parse('{"constructor":{}}')] }, /httpCustomHeaders\[0\] must be an object/],
      [
        { httpEndpoint: 'https://siem.example.com', httpCustomHeaders: [{ header: 'X-A', value: '[redacted]' }] },
        /httpCustomHeaders\[0\].value is the "\[redacted\]" placeholder GET shows/,
      ],
    ])('refuses %j', (sink, message) => {
      expect(() => validateHttpSink(sink, false)).toThrow(InvalidLogStreamException);
      expect(() => validateHttpSink(sink, false)).toThrow(message);
    });

    it('allows http: and loopback only when private network URLs are allowed', () => {
      expect(validateHttpSink({ httpEndpoint: 'http://127.0.0.1:8080/in' }, true).httpEndpoint).toBe('http://127.0.0.1:8080/in');
    });
  });

  describe('kafka sink', () => {
    const rules = { topicPrefix: 'ulo.', streamTopicPrefix: 'logs.' };

    it('accepts a legal topic name under the stream prefix', () => {
      expect(validateKafkaSink({ topic: 'logs.siem.logout-events' }, rules)).toEqual({ topic: 'logs.siem.logout-events' });
    });

    it.each([
      [{}, /sink.topic is required/],
      [{ topic: 'logs.has space' }, /letters, digits/],
      [{ topic: `logs.${'x'.repeat(245)}` }, /1 to 249/],
      [{ topic: '..' }, /1 to 249/],
      [{ topic: '__consumer_offsets' }, /internal/],
      [{ topic: 'ulo.log-events' }, /one of the service's own topics/],
      [{ topic: 'ulo.logout-requested.v1' }, /one of the service's own topics/],
      [{ topic: 'siem.logout-events' }, /sink.topic must start with "logs." \(LOG_STREAM_KAFKA_TOPIC_PREFIX\)/],
      [{ topic: 'other-deployment.logout-requested.v1' }, /must start with "logs."/],
      [{ topic: 'logs.' }, /name a topic after it/],
      [{ topic: 't', httpEndpoint: 'https://x' }, /sink.httpEndpoint is not a member of a kafka sink/],
    ])('refuses %j', (sink, message) => {
      expect(() => validateKafkaSink(sink, rules)).toThrow(message);
    });

    it("refuses the service's own topics even when they sit under the stream prefix", () => {
      expect(() => validateKafkaSink({ topic: 'logs.log-events' }, { topicPrefix: 'logs.', streamTopicPrefix: 'logs.' })).toThrow(
        /one of the service's own topics/,
      );
    });
  });

  describe('filters', () => {
    it('accepts the categories of SPEC §5 and drops repeats', () => {
      expect(
        validateFilters([
          { type: 'category', name: 'auth.logout.fail' },
          { type: 'category', name: 'user.success' },
          { type: 'category', name: 'auth.logout.fail' },
        ]),
      ).toEqual([
        { type: 'category', name: 'auth.logout.fail' },
        { type: 'category', name: 'user.success' },
      ]);
      expect(validateFilters([])).toEqual([]);
    });

    it.each([
      [{ type: 'category', name: 'auth.login.success' }, /filters\[0\].name must be one of: auth.logout.success, auth.logout.fail, user.success, management.success, management.fail/],
      [{ type: 'type', name: 'srrt' }, /filters\[0\].type must be "category"/],
      [{ type: 'category', name: 'user.success', extra: 1 }, /filters\[0\] must be an object/],
      ['user.success', /filters\[0\] must be an object/],
    ])('refuses %j', (filter, message) => {
      expect(() => validateFilters([filter])).toThrow(message);
    });

    it('refuses a non-array', () => {
      expect(() => validateFilters({ type: 'category' })).toThrow(/filters must be an array/);
    });
  });
});
