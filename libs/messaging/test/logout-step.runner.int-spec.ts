import { Logger } from '@nestjs/common';
import { Kafka, logLevel } from 'kafkajs';
import { DataSource, EntityManager } from 'typeorm';
import type { Initiator, LogEvent, LogoutRequested } from '@ulo/contracts';
import { LogEventRecorder, LogoutStepRunner, OutboxRelay, OutboxWriter, PoisonMessageException, StepWork, StepWorkOf } from '@ulo/messaging';
import { LockedRequest, LogEventRepository, LogoutRequestRepository, OutboxRepository, createDataSource } from '@ulo/persistence';
import { deleteTopicsWithPrefix, pollUntil, testConfig, truncateAll, uniqueSuffix } from '@ulo/testing';
import { TopicReader } from '../../../test/support/topic-reader';

interface RequestRow {
  sessions_revoked: number | null;
  refresh_tokens_revoked: number | null;
  completed_at: Date | null;
}

/** SPEC §3: each step of a logout request runs once, in one transaction with its bookkeeping and logs. */
describe('LogoutStepRunner', () => {
  const config = testConfig();
  const prefix = `${config.kafka.topicPrefix}steps${uniqueSuffix()}.`;
  const kafka = new Kafka({ brokers: config.kafka.brokers, logLevel: logLevel.NOTHING });
  const logEventsTopic = `${prefix}log-events`;
  let dataSource: DataSource;
  let runner: LogoutStepRunner;
  let recorder: LogEventRecorder;
  /**
   * The real relay. Not started, it publishes nothing, so the outbox rows stay to be counted; it
   * polls only hourly, so once started what reaches Kafka soon was sent because the runner asked.
   */
  let relay: OutboxRelay;
  let kick: jest.SpyInstance;
  const kicks = () => kick.mock.calls.length;
  let heartbeats: number;
  const heartbeat = async () => void heartbeats++;

  beforeAll(async () => {
    // The runner's line per batch is for operators, not for the test output.
    Logger.overrideLogger(['warn', 'error']);
    dataSource = createDataSource(config.database.url);
    await dataSource.initialize();
    recorder = new LogEventRecorder(dataSource, new OutboxWriter(prefix, new OutboxRepository()), new LogEventRepository(dataSource));
    relay = new OutboxRelay(dataSource, new OutboxRepository(), kafka, { pollIntervalMs: 3_600_000, topicPrefix: prefix });
    runner = new LogoutStepRunner(dataSource, new LogoutRequestRepository(), recorder, relay);
  });
  afterAll(async () => {
    await relay.stop();
    await truncateAll(dataSource);
    await dataSource.destroy();
    await deleteTopicsWithPrefix(kafka, prefix);
  });
  beforeEach(async () => {
    kick = jest.spyOn(relay, 'kick');
    heartbeats = 0;
    await truncateAll(dataSource);
  });
  afterEach(() => kick.mockRestore());

  /** A logout request as the gateway records it, and its event. */
  async function insertRequest(id: string, initiator: Initiator, userIds = ['auth0|ann', 'auth0|ann-alias']): Promise<LogoutRequested> {
    const payload: LogoutRequested = {
      requestId: id,
      initiator,
      userIds,
      connection: { id: 'con_acme', name: 'acme-okta' },
      sessions: { mode: 'all' },
      refreshTokens: { mode: 'all' },
      acceptedAt: '2026-11-25T12:00:00.000Z',
    };
    await dataSource.query(
      `INSERT INTO logout_requests (id, initiator, connection_id, connection_name, user_ids, payload, origin, created_at)
       VALUES ($1, $2, 'con_acme', 'acme-okta', $3, $4, $5, '2026-11-25T12:00:00Z')`,
      [id, initiator, userIds, JSON.stringify(payload), JSON.stringify({ ip: '203.0.113.7', user_agent: 'Okta/1.0', hostname: 'login.example.com' })],
    );
    return payload;
  }

  const requestRow = async (id: string): Promise<RequestRow> =>
    (await dataSource.query(`SELECT sessions_revoked, refresh_tokens_revoked, completed_at FROM logout_requests WHERE id = $1`, [id]))[0];
  const logRows = (): Promise<{ type: string; data: { details: Record<string, unknown> } & Record<string, unknown> }[]> =>
    dataSource.query(`SELECT type, data FROM log_events ORDER BY log_id`);
  const count = async (table: 'log_events' | 'outbox' | 'users'): Promise<number> =>
    Number((await dataSource.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n);

  /** A step's work that records the requests it saw and reports `work` for each. */
  function recordingWork(calls: LockedRequest[], work: StepWork): StepWorkOf {
    return async (_tx: EntityManager, pending: LockedRequest[]) => {
      calls.push(...pending);
      return new Map(pending.map((p) => [p.id, work]));
    };
  }

  /** A step's work that reports `work` for each request it is given. */
  const reporting =
    (work: StepWork): StepWorkOf =>
    async (_tx, pending) =>
      new Map(pending.map((p) => [p.id, work]));

  it('runs a step’s work once, records its count, writes the work’s log events and asks the relay to publish', async () => {
    const request = await insertRequest('lr_once', 'idp-logout');
    const calls: LockedRequest[] = [];

    const counted = await runner.run(
      request,
      'refresh_tokens',
      heartbeat,
      recordingWork(calls, { count: 3, events: [{ type: 'srrt', description: 'Refresh token revoked', details: { credential_id: 'rt_1' } }] }),
    );

    expect(counted).toBe(3);
    expect(calls).toEqual([
      {
        id: 'lr_once',
        initiator: 'idp-logout',
        connectionId: 'con_acme',
        connectionName: 'acme-okta',
        userIds: ['auth0|ann', 'auth0|ann-alias'],
        origin: { ip: '203.0.113.7', user_agent: 'Okta/1.0', hostname: 'login.example.com' },
        sessionsRevoked: null,
        refreshTokensRevoked: null,
        // The request as accepted: what the step reads its scope from.
        request,
      },
    ]);
    expect(await requestRow('lr_once')).toEqual({ sessions_revoked: null, refresh_tokens_revoked: 3, completed_at: null });
    expect((await logRows()).map((r) => [r.type, r.data.details])).toEqual([['srrt', { credential_id: 'rt_1' }]]);
    expect(await count('outbox')).toBe(1);
    expect(kicks()).toBe(1);
    expect(heartbeats).toBe(1);
  });

  it('a second run of the same step for the same request is a no-op: work not called, 0, no log or outbox rows', async () => {
    const request = await insertRequest('lr_twice', 'idp-logout');
    const first: LockedRequest[] = [];
    await runner.run(request, 'sessions', heartbeat, recordingWork(first, { count: 4, events: [{ type: 'sapi', description: 'first run' }] }));
    const logsAfterFirst = await count('log_events');
    const outboxAfterFirst = await count('outbox');

    const second: LockedRequest[] = [];
    const counted = await runner.run(request, 'sessions', heartbeat, recordingWork(second, { count: 9, events: [{ type: 'sapi', description: 'second run' }] }));

    expect(counted).toBe(0);
    expect(first).toHaveLength(1);
    expect(second).toEqual([]);
    expect(logsAfterFirst).toBe(1);
    expect(outboxAfterFirst).toBe(1);
    expect(await count('log_events')).toBe(1);
    expect(await count('outbox')).toBe(1);
    expect(await requestRow('lr_twice')).toEqual({ sessions_revoked: 4, refresh_tokens_revoked: null, completed_at: null });
    // Only the first run changed anything to publish.
    expect(kicks()).toBe(1);
  });

  it('a step that found nothing to do records 0, and is not done again', async () => {
    const request = await insertRequest('lr_nothing', 'idp-logout');
    const calls: LockedRequest[] = [];
    expect(await runner.run(request, 'sessions', heartbeat, recordingWork(calls, { count: 0 }))).toBe(0);
    expect(await runner.run(request, 'sessions', heartbeat, recordingWork(calls, { count: 7 }))).toBe(0);

    expect(calls).toHaveLength(1);
    expect(await requestRow('lr_nothing')).toEqual({ sessions_revoked: 0, refresh_tokens_revoked: null, completed_at: null });
  });

  it('an unknown request id throws PoisonMessageException and writes nothing', async () => {
    await insertRequest('lr_known', 'idp-logout');
    const calls: LockedRequest[] = [];
    const unknown: LogoutRequested = {
      requestId: 'lr_never_accepted',
      initiator: 'idp-logout',
      userIds: ['auth0|ann'],
      connection: null,
      sessions: { mode: 'all' },
      refreshTokens: { mode: 'all' },
      acceptedAt: '2026-11-25T12:00:00.000Z',
    };

    const running = runner.run(unknown, 'sessions', heartbeat, recordingWork(calls, { count: 1, events: [{ type: 'sapi', description: 'x' }] }));
    await expect(running).rejects.toBeInstanceOf(PoisonMessageException);
    await expect(running).rejects.toThrow('unknown logout request lr_never_accepted');

    expect(calls).toEqual([]);
    expect(await count('log_events')).toBe(0);
    expect(await count('outbox')).toBe(0);
    expect(Number((await dataSource.query(`SELECT count(*)::int AS n FROM logout_requests`))[0].n)).toBe(1);
    expect(await requestRow('lr_known')).toEqual({ sessions_revoked: null, refresh_tokens_revoked: null, completed_at: null });
    expect(kicks()).toBe(0);
  });

  it.each([
    ['sessions', 'refresh_tokens'],
    ['refresh_tokens', 'sessions'],
  ] as const)(
    'when %s runs first and %s completes an idp-logout request, exactly one universal_logout_succeeded is written and completed_at set',
    async (firstStep, secondStep) => {
      const request = await insertRequest(`lr_complete_${firstStep}`, 'idp-logout');
      // Sessions: 2 terminated; refresh tokens: 5 revoked; whatever the order.
      const workOf = { sessions: { count: 2 }, refresh_tokens: { count: 5 } };
      await runner.run(request, firstStep, heartbeat, reporting(workOf[firstStep]));
      expect(await logRows()).toEqual([]);
      expect((await requestRow(request.requestId)).completed_at).toBeNull();

      await runner.run(request, secondStep, heartbeat, reporting(workOf[secondStep]));

      const row = await requestRow(request.requestId);
      expect(row.sessions_revoked).toBe(2);
      expect(row.refresh_tokens_revoked).toBe(5);
      expect(row.completed_at).toBeInstanceOf(Date);
      const logs = await logRows();
      expect(logs).toHaveLength(1);
      expect(logs[0].type).toBe('universal_logout_succeeded');
      expect(logs[0].data).toMatchObject({
        type: 'universal_logout_succeeded',
        description: 'Universal Logout succeeded',
        connection: 'acme-okta',
        connection_id: 'con_acme',
        user_id: 'auth0|ann',
        ip: '203.0.113.7',
        user_agent: 'Okta/1.0',
        hostname: 'login.example.com',
      });
      expect(logs[0].data.details).toEqual({
        request_id: request.requestId,
        user_ids: ['auth0|ann', 'auth0|ann-alias'],
        sessions_revoked: 2,
        refresh_tokens_revoked: 5,
      });
      expect(await count('outbox')).toBe(1);

      // Redelivered to either step afterwards: nothing more.
      expect(await runner.run(request, firstStep, heartbeat, reporting({ count: 8 }))).toBe(0);
      expect(await runner.run(request, secondStep, heartbeat, reporting({ count: 8 }))).toBe(0);
      expect(await count('log_events')).toBe(1);
      expect(await count('outbox')).toBe(1);
      expect(await requestRow(request.requestId)).toEqual({ sessions_revoked: 2, refresh_tokens_revoked: 5, completed_at: row.completed_at });
    },
  );

  it('a session-revoked request is completed without universal_logout_succeeded', async () => {
    const request = await insertRequest('lr_session_revoked', 'session-revoked', ['auth0|bob']);
    await runner.run(request, 'sessions', heartbeat, reporting({ count: 1 }));
    await runner.run(request, 'refresh_tokens', heartbeat, reporting({ count: 2 }));

    const row = await requestRow('lr_session_revoked');
    expect(row.sessions_revoked).toBe(1);
    expect(row.refresh_tokens_revoked).toBe(2);
    expect(row.completed_at).toBeInstanceOf(Date);
    expect(await count('log_events')).toBe(0);
    expect(await count('outbox')).toBe(0);
  });

  it('if the work throws after writing, nothing of the step remains, and the next run does the work', async () => {
    const request = await insertRequest('lr_throws', 'idp-logout');
    const failure = new Error('connection reset while revoking');
    const writeThenThrow = async (tx: EntityManager): Promise<Map<string, StepWork>> => {
      await tx.query(`INSERT INTO users (user_id) VALUES ('auth0|written-by-the-step')`);
      await recorder.record(tx, [{ type: 'srrt', description: 'written before the failure' }]);
      throw failure;
    };

    await expect(runner.run(request, 'sessions', heartbeat, writeThenThrow)).rejects.toBe(failure);

    expect(await count('users')).toBe(0);
    expect(await count('log_events')).toBe(0);
    expect(await count('outbox')).toBe(0);
    expect(await requestRow('lr_throws')).toEqual({ sessions_revoked: null, refresh_tokens_revoked: null, completed_at: null });
    expect(kicks()).toBe(0);

    const calls: LockedRequest[] = [];
    expect(await runner.run(request, 'sessions', heartbeat, recordingWork(calls, { count: 6 }))).toBe(6);
    expect(calls).toHaveLength(1);
    expect(await requestRow('lr_throws')).toEqual({ sessions_revoked: 6, refresh_tokens_revoked: null, completed_at: null });
  });

  it('runBatch locks each request once, works on those not done, and names the unknown ones', async () => {
    const done = await insertRequest('lr_b_done', 'idp-logout');
    const fresh = await insertRequest('lr_a_fresh', 'idp-logout');
    await runner.run(done, 'sessions', heartbeat, reporting({ count: 1 }));
    const unknown = { ...fresh, requestId: 'lr_c_unknown' };
    const seen: string[][] = [];

    const outcome = await runner.runBatch([done, unknown, fresh, fresh], 'sessions', heartbeat, async (_tx, pending) => {
      seen.push(pending.map((p) => p.id));
      return new Map([['lr_a_fresh', { count: 3 }]]);
    });

    expect(seen).toEqual([['lr_a_fresh']]);
    expect([...outcome.counts]).toEqual([['lr_a_fresh', 3]]);
    expect(outcome.unknown).toEqual(['lr_c_unknown']);
    expect(await requestRow('lr_a_fresh')).toEqual({ sessions_revoked: 3, refresh_tokens_revoked: null, completed_at: null });
    expect(await requestRow('lr_b_done')).toEqual({ sessions_revoked: 1, refresh_tokens_revoked: null, completed_at: null });
  });

  it('batches of the same step and work that arrive together share one commit, and each gets its own outcome', async () => {
    const [a, b] = [await insertRequest('lr_together_a', 'idp-logout'), await insertRequest('lr_together_b', 'idp-logout')];
    const seen: string[][] = [];
    const work: StepWorkOf = async (_tx, pending) => {
      seen.push(pending.map((p) => p.id));
      return new Map(pending.map((p) => [p.id, { count: p.id === 'lr_together_a' ? 2 : 5 }]));
    };

    const [first, second] = await Promise.all([
      runner.runBatch([a], 'sessions', heartbeat, work),
      runner.runBatch([b, { ...b, requestId: 'lr_together_unknown' }], 'sessions', heartbeat, work),
    ]);

    expect(seen).toEqual([['lr_together_a', 'lr_together_b']]);
    expect([...first.counts]).toEqual([['lr_together_a', 2]]);
    expect(first.unknown).toEqual([]);
    expect([...second.counts]).toEqual([['lr_together_b', 5]]);
    expect(second.unknown).toEqual(['lr_together_unknown']);
  });

  it('after the commit, asks the relay to publish: the universal_logout_succeeded reaches <prefix>log-events without waiting for a poll', async () => {
    relay.start();
    let reader: TopicReader | null = null;
    try {
      // Connected, the relay has created the service's topics under the prefix.
      await pollUntil(async () => relay.problem, (problem) => problem === null, { timeoutMs: 45_000, what: 'the relay to connect' });
      reader = await TopicReader.start(kafka, `${prefix}reader`, [logEventsTopic]);
      const request = await insertRequest('lr_published', 'idp-logout');
      await runner.run(request, 'sessions', heartbeat, reporting({ count: 1 }));
      await runner.run(request, 'refresh_tokens', heartbeat, reporting({ count: 2 }));

      const published = await pollUntil(async () => reader!.of(logEventsTopic), (m) => m.length >= 1, {
        what: 'the log event on log-events',
      });
      expect(published).toHaveLength(1);
      const event = JSON.parse(published[0].value) as LogEvent;
      expect(published[0].key).toBe(event.log_id);
      expect(event).toMatchObject({
        type: 'universal_logout_succeeded',
        details: { request_id: 'lr_published', user_ids: ['auth0|ann', 'auth0|ann-alias'], sessions_revoked: 1, refresh_tokens_revoked: 2 },
      });
      const [stored] = await logRows();
      expect(event).toEqual(stored.data);
      await pollUntil(() => count('outbox'), (n) => n === 0, { what: 'the outbox row to be published and removed' });
    } finally {
      await reader?.close();
      await relay.stop();
    }
  });
});
