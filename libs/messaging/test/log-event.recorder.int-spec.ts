import { DataSource } from 'typeorm';
import { LogEventRecorder, OutboxWriter } from '@ulo/messaging';
import { LogEventRepository, OutboxRepository, createDataSource } from '@ulo/persistence';
import { testConfig, truncateAll, uniqueSuffix } from '@ulo/testing';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

interface StoredRow {
  log_id: string;
  date: Date;
  type: string;
  user_id: string | null;
  connection: string | null;
  client_id: string | null;
  data: Record<string, unknown>;
}

/** SPEC §5: every log event is stored and queued once for `<prefix>log-events`, in the transaction of its fact. */
describe('LogEventRecorder', () => {
  const config = testConfig();
  const prefix = `${config.kafka.topicPrefix}rec${uniqueSuffix()}.`;
  let dataSource: DataSource;
  let recorder: LogEventRecorder;

  beforeAll(async () => {
    dataSource = createDataSource(config.database.url);
    await dataSource.initialize();
    recorder = new LogEventRecorder(dataSource, new OutboxWriter(prefix, new OutboxRepository()), new LogEventRepository(dataSource));
  });
  afterAll(async () => {
    await truncateAll(dataSource);
    await dataSource.destroy();
  });
  beforeEach(async () => truncateAll(dataSource));

  const stored = (): Promise<StoredRow[]> =>
    dataSource.query(`SELECT log_id, date, type, user_id, connection, client_id, data FROM log_events ORDER BY log_id`);
  const outbox = (): Promise<{ topic: string; message_key: string; value: string }[]> =>
    dataSource.query(`SELECT topic, message_key, value FROM outbox ORDER BY id`);

  it('record(tx, inputs) stores each event and queues exactly one outbox row per event on <prefix>log-events, keyed by log_id', async () => {
    const before = Date.now();
    await dataSource.transaction((tx) =>
      recorder.record(tx, [
        {
          type: 'srrt',
          description: 'Refresh token revoked',
          user_id: 'auth0|ann',
          client_id: 'app-1',
          connection: 'acme-okta',
          connection_id: 'con_1',
          details: { credential_id: 'rt_1', session_id: 's_1' },
        },
        { type: 'universal_logout_failed', description: 'Universal Logout failed', connection: 'acme-okta', details: { error: 'invalid_token' } },
      ]),
    );

    const rows = await stored();
    expect(rows).toHaveLength(2);
    const srrt = rows.find((r) => r.type === 'srrt')!;
    const failed = rows.find((r) => r.type === 'universal_logout_failed')!;
    expect(srrt.log_id).toMatch(ULID);
    expect(failed.log_id).toMatch(ULID);
    expect(srrt.log_id).not.toBe(failed.log_id);
    expect(srrt).toMatchObject({ user_id: 'auth0|ann', client_id: 'app-1', connection: 'acme-okta' });
    expect(failed).toMatchObject({ user_id: null, client_id: null, connection: 'acme-okta' });
    expect(srrt.data).toEqual({
      log_id: srrt.log_id,
      date: srrt.date.toISOString(),
      type: 'srrt',
      description: 'Refresh token revoked',
      connection: 'acme-okta',
      connection_id: 'con_1',
      client_id: 'app-1',
      client_name: null,
      user_id: 'auth0|ann',
      identity_user_id: null,
      ip: null,
      user_agent: null,
      hostname: null,
      details: { credential_id: 'rt_1', session_id: 's_1' },
    });
    expect(srrt.date.getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(srrt.date.getTime()).toBeLessThanOrEqual(Date.now());

    const queued = await outbox();
    expect(queued).toHaveLength(2);
    for (const row of rows) {
      const mine = queued.filter((q) => q.message_key === row.log_id);
      expect(mine).toHaveLength(1);
      expect(mine[0].topic).toBe(`${prefix}log-events`);
      // The bare event (SPEC §5: no envelope), the very JSON that was stored.
      expect(JSON.parse(mine[0].value)).toEqual(row.data);
    }
  });

  it('record(tx, inputs) writes in the caller’s transaction: rolled back, nothing is stored or queued', async () => {
    const failure = new Error('the fact being reported failed to commit');
    await expect(
      dataSource.transaction(async (tx) => {
        await recorder.record(tx, [{ type: 'sapi', description: 'Create a client' }]);
        throw failure;
      }),
    ).rejects.toBe(failure);

    expect(await stored()).toEqual([]);
    expect(await outbox()).toEqual([]);
  });

  it('record with no inputs writes nothing', async () => {
    await dataSource.transaction((tx) => recorder.record(tx, []));
    await recorder.recordAlone([]);
    expect(await stored()).toEqual([]);
    expect(await outbox()).toEqual([]);
  });

  it('recordAlone(inputs) stores and queues in a transaction of its own', async () => {
    await recorder.recordAlone([
      { type: 'fapi', description: 'Create a client', details: { response: { statusCode: 400 } } },
      { type: 'sapi', description: 'Delete a client' },
      { type: 'sapi', description: 'Update a client' },
    ]);

    const rows = await stored();
    expect(rows.map((r) => [r.type, r.data.description])).toEqual([
      ['fapi', 'Create a client'],
      ['sapi', 'Delete a client'],
      ['sapi', 'Update a client'],
    ]);
    expect(rows[0].data.details).toEqual({ response: { statusCode: 400 } });
    const queued = await outbox();
    expect(queued.map((q) => q.message_key)).toEqual(rows.map((r) => r.log_id));
    expect(queued.map((q) => q.topic)).toEqual([`${prefix}log-events`, `${prefix}log-events`, `${prefix}log-events`]);
    expect(queued.map((q) => JSON.parse(q.value))).toEqual(rows.map((r) => r.data));
  });

  it('caps the text a caller chooses: connection 128, user_agent 256, hostname 256, ip 64, description 1024 characters, the last an ellipsis', async () => {
    await recorder.recordAlone([
      {
        type: 'universal_logout_failed',
        description: 'd'.repeat(5000),
        connection: 'c'.repeat(5000),
        user_agent: 'a'.repeat(5000),
        hostname: 'h'.repeat(5000),
        ip: '9'.repeat(5000),
      },
    ]);

    const [row] = await stored();
    const event = row.data as Record<string, string>;
    expect(event.connection).toHaveLength(128);
    expect(event.user_agent).toHaveLength(256);
    expect(event.hostname).toHaveLength(256);
    expect(event.ip).toHaveLength(64);
    expect(event.description).toHaveLength(1024);
    expect(event.connection).toBe(`${'c'.repeat(127)}…`);
    expect(event.user_agent).toBe(`${'a'.repeat(255)}…`);
    expect(event.hostname).toBe(`${'h'.repeat(255)}…`);
    expect(event.ip).toBe(`${'9'.repeat(63)}…`);
    expect(event.description).toBe(`${'d'.repeat(1023)}…`);
    // The indexed column holds the capped name too, and the published value is the capped event.
    expect(row.connection).toBe(`${'c'.repeat(127)}…`);
    const [queued] = await outbox();
    expect(JSON.parse(queued.value)).toEqual(row.data);
  });

  it('never cuts an emoji in two, and replaces what PostgreSQL cannot store (NUL, lone surrogates) in text and details', async () => {
    await recorder.recordAlone([
      {
        type: 'fapi',
        // The cut at 127 characters falls between the two halves of the emoji.
        description: 'x',
        connection: `${'c'.repeat(126)}\u{1F600}tail`,
        user_agent: 'agent\u0000with NUL',
        details: { request: { body: { name: 'lone \ud800 surrogate', 'key \udc00': 'value' } } },
      },
    ]);

    const [row] = await stored();
    expect(row.data.connection).toBe(`${'c'.repeat(126)}…`);
    expect(row.data.user_agent).toBe('agent\ufffdwith NUL');
    expect(row.data.details).toEqual({ request: { body: { name: 'lone \ufffd surrogate', 'key \ufffd': 'value' } } });
  });

  it('keeps text at the limit as it is', async () => {
    await recorder.recordAlone([{ type: 'universal_logout_failed', description: 'd'.repeat(1024), connection: 'c'.repeat(128), user_agent: 'a'.repeat(256) }]);

    const [row] = await stored();
    expect(row.data.description).toBe('d'.repeat(1024));
    expect(row.data.connection).toBe('c'.repeat(128));
    expect(row.data.user_agent).toBe('a'.repeat(256));
  });

  it('replaces details over 32 KiB serialised by {truncated: true, original_bytes}, and keeps 32 KiB exactly', async () => {
    // {"blob":"…"} is 11 bytes around the blob: 32,757 characters make 32,768 bytes, 40,000 make 40,011.
    await recorder.recordAlone([
      { type: 'universal_logout_failed', description: 'at the limit', details: { blob: 'x'.repeat(32_757) } },
      { type: 'universal_logout_failed', description: 'one byte over', details: { blob: 'x'.repeat(32_758) } },
      { type: 'universal_logout_failed', description: 'far over', details: { blob: 'x'.repeat(40_000) } },
      // Bytes, not characters: 12,000 three-byte characters are 36,011 bytes.
      { type: 'universal_logout_failed', description: 'multibyte', details: { blob: '€'.repeat(12_000) } },
    ]);

    const byDescription = new Map((await stored()).map((r) => [r.data.description, r.data.details]));
    expect(byDescription.get('at the limit')).toEqual({ blob: 'x'.repeat(32_757) });
    expect(byDescription.get('one byte over')).toEqual({ truncated: true, original_bytes: 32_769 });
    expect(byDescription.get('far over')).toEqual({ truncated: true, original_bytes: 40_011 });
    expect(byDescription.get('multibyte')).toEqual({ truncated: true, original_bytes: 36_011 });
    const published = (await outbox()).map((q) => JSON.parse(q.value) as { description: string; details: unknown });
    expect(published.find((e) => e.description === 'far over')!.details).toEqual({ truncated: true, original_bytes: 40_011 });
  });
});
