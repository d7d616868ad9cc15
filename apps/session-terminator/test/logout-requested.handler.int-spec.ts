import { Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { DeadLetter, Envelope, Initiator, LogoutRequested, RevocationScope, SessionsTerminated, Topics } from '@ulo/contracts';
import { ConsumerApp, OutboxWriter, startConsumerApp } from '@ulo/messaging';
import { OutboxRepository, createDataSource } from '@ulo/persistence';
import { deleteTopicsWithPrefix, pollUntil, testConfig, truncateAll, uniqueSuffix } from '@ulo/testing';
import { TopicReader, handledPast, produce } from '../../../test/support/topic-reader';
import { SessionTerminatorModule } from '../src/session-terminator.module';

interface RequestOptions {
  initiator?: Initiator;
  sessions?: RevocationScope;
  /** The other step's count, when it ran first. */
  refreshTokensRevoked?: number | null;
}

/** SPEC §3 "Sessions": the session-terminator, in this process, on the run's PostgreSQL and Kafka. */
describe('session-terminator: logout-requested.v1', () => {
  const prefix = `${testConfig().kafka.topicPrefix}x${uniqueSuffix()}.`;
  const config = testConfig({ KAFKA_TOPIC_PREFIX: prefix });
  const kafka = new Kafka({ brokers: config.kafka.brokers, logLevel: logLevel.NOTHING });
  const writer = new OutboxWriter(prefix, new OutboxRepository());
  const requestedTopic = `${prefix}logout-requested.v1`;
  const terminatedTopic = `${prefix}sessions-terminated.v1`;
  const deadLetterTopic = `${prefix}dead-letter.v1`;
  const logEventsTopic = `${prefix}log-events`;
  let terminator: ConsumerApp;
  let reader: TopicReader;
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = createDataSource(config.database.url);
    await dataSource.initialize();
    terminator = await startConsumerApp('session-terminator', SessionTerminatorModule.forRoot(config), config);
    await pollUntil(async () => terminator.server.isConsuming, Boolean, { timeoutMs: 45_000, what: 'the session-terminator to join its group' });
    reader = await TopicReader.start(kafka, `${prefix}reader`, [terminatedTopic, deadLetterTopic, logEventsTopic]);
  }, 60_000);
  afterAll(async () => {
    await reader?.close();
    await terminator?.app.close();
    await truncateAll(dataSource);
    await dataSource.destroy();
    await deleteTopicsWithPrefix(kafka, prefix);
  });
  beforeEach(async () => truncateAll(dataSource));

  const query = <T>(sql: string, params: unknown[] = []): Promise<T[]> => dataSource.query(sql, params);

  async function insertUser(userId: string): Promise<void> {
    await query(`INSERT INTO users (user_id) VALUES ($1)`, [userId]);
  }

  async function insertSession(id: string, userId: string, createdAt: string, clientIds: string[] = [], revoked?: { at: string; by: string }): Promise<void> {
    await query(`INSERT INTO sessions (id, user_id, created_at, revoked_at, revoked_by) VALUES ($1, $2, $3, $4, $5)`, [
      id,
      userId,
      createdAt,
      revoked?.at ?? null,
      revoked?.by ?? null,
    ]);
    if (clientIds.length) await query(`INSERT INTO session_clients (session_id, client_id) SELECT $1, unnest($2::text[])`, [id, clientIds]);
  }

  /** A logout request as the gateway accepts it (`created_at` given), and its event's value. */
  async function insertRequest(
    id: string,
    userIds: string[],
    createdAt: string,
    { initiator = 'idp-logout', sessions = { mode: 'all' }, refreshTokensRevoked = null }: RequestOptions = {},
  ): Promise<string> {
    const payload: LogoutRequested = {
      requestId: id,
      initiator,
      userIds,
      connection: { id: 'con_acme', name: 'acme-okta' },
      sessions,
      refreshTokens: { mode: 'all' },
      acceptedAt: createdAt,
    };
    await query(
      `INSERT INTO logout_requests (id, initiator, connection_id, connection_name, user_ids, payload, created_at, refresh_tokens_revoked)
       VALUES ($1, $2, 'con_acme', 'acme-okta', $3, $4, $5, $6)`,
      [id, initiator, userIds, JSON.stringify(payload), createdAt, refreshTokensRevoked],
    );
    return writer.event(Topics.logoutRequested, userIds[0], id, payload).value;
  }

  const requestRow = async (id: string) =>
    (
      await query<{ sessions_revoked: number | null; refresh_tokens_revoked: number | null; completed_at: Date | null }>(
        `SELECT sessions_revoked, refresh_tokens_revoked, completed_at FROM logout_requests WHERE id = $1`,
        [id],
      )
    )[0];
  const stepDone = (id: string) =>
    pollUntil(() => requestRow(id), (r) => r.sessions_revoked !== null, { what: `the sessions step of ${id}` });
  const sessionsOf = (userId: string) =>
    query<{ id: string; revoked_at: Date | null; revoked_by: string | null }>(
      `SELECT id, revoked_at, revoked_by FROM sessions WHERE user_id = $1 ORDER BY id`,
      [userId],
    );
  const terminatedEventsOf = (requestId: string): Envelope<SessionsTerminated>[] =>
    reader
      .of(terminatedTopic)
      .map((m) => JSON.parse(m.value) as Envelope<SessionsTerminated>)
      .filter((e) => e.correlationId === requestId);
  const outboxEmpty = () => pollUntil(async () => (await query(`SELECT id FROM outbox`)).length, (n) => n === 0, { what: 'the outbox to be published' });

  /** The clients of session i of the 250: app-a on every third, app-b on every fifth. */
  const clientsOf = (i: number) => [...(i % 3 === 0 ? ['app-a'] : []), ...(i % 5 === 0 ? ['app-b'] : [])];
  const sessionId = (i: number) => `s_${String(i).padStart(3, '0')}`;

  it('terminates every active session created before the request, by the request, and announces them 100 per event with their clients', async () => {
    const ann = 'auth0|ann';
    await insertUser(ann);
    await insertUser('auth0|other');
    for (let i = 1; i <= 250; i++) await insertSession(sessionId(i), ann, '2026-01-01T10:00:00Z', clientsOf(i));
    await insertSession('s_late', ann, '2026-01-01T11:00:01Z', ['app-a']);
    await insertSession('s_old', ann, '2026-01-01T08:00:00Z', ['app-a'], { at: '2026-01-01T09:00:00Z', by: 'lr_earlier' });
    await insertSession('s_other', 'auth0|other', '2026-01-01T10:00:00Z', ['app-a']);
    const value = await insertRequest('lr_ann', [ann], '2026-01-01T11:00:00Z');

    await produce(kafka, requestedTopic, [{ key: ann, value }]);
    const row = await stepDone('lr_ann');

    expect(row).toEqual({ sessions_revoked: 250, refresh_tokens_revoked: null, completed_at: null });
    const sessions = await sessionsOf(ann);
    const revokedByRequest = sessions.filter((s) => s.revoked_by === 'lr_ann');
    expect(revokedByRequest).toHaveLength(250);
    expect(revokedByRequest.map((s) => s.id)).toEqual(Array.from({ length: 250 }, (_, i) => sessionId(i + 1)));
    for (const s of revokedByRequest) expect(s.revoked_at).toBeInstanceOf(Date);
    // A login after the logout survives it; a session revoked earlier keeps who revoked it; other users are untouched.
    expect(sessions.find((s) => s.id === 's_late')).toEqual({ id: 's_late', revoked_at: null, revoked_by: null });
    expect(sessions.find((s) => s.id === 's_old')).toEqual({ id: 's_old', revoked_at: new Date('2026-01-01T09:00:00Z'), revoked_by: 'lr_earlier' });
    expect(await sessionsOf('auth0|other')).toEqual([{ id: 's_other', revoked_at: null, revoked_by: null }]);

    const events = await pollUntil(async () => terminatedEventsOf('lr_ann'), (e) => e.length >= 3, { what: 'three sessions-terminated events' });
    expect(events).toHaveLength(3);
    expect(
      events.map((e) => [e.type, e.version, e.payload.requestId, e.payload.initiator, e.payload.chunk, e.payload.allSessions, e.payload.sessions.length]),
    ).toEqual([
      ['sessions-terminated', 1, 'lr_ann', 'idp-logout', 0, true, 100],
      ['sessions-terminated', 1, 'lr_ann', 'idp-logout', 1, true, 100],
      ['sessions-terminated', 1, 'lr_ann', 'idp-logout', 2, true, 50],
    ]);
    expect(events.flatMap((e) => e.payload.sessions)).toEqual(
      Array.from({ length: 250 }, (_, i) => ({ sessionId: sessionId(i + 1), userId: ann, clientIds: clientsOf(i + 1) })),
    );
    // Spot checks of the rule above, written out.
    const announced = new Map(events.flatMap((e) => e.payload.sessions).map((s) => [s.sessionId, s.clientIds]));
    expect(announced.get('s_001')).toEqual([]);
    expect(announced.get('s_003')).toEqual(['app-a']);
    expect(announced.get('s_010')).toEqual(['app-b']);
    expect(announced.get('s_150')).toEqual(['app-a', 'app-b']);
    expect(announced.has('s_late')).toBe(false);
    expect(announced.has('s_old')).toBe(false);
    // Keyed by the user: one partition, in chunk order.
    const annMessages = reader.of(terminatedTopic).filter((m) => m.key === ann);
    expect(annMessages).toHaveLength(3);
    expect(new Set(annMessages.map((m) => m.partition)).size).toBe(1);
    // The refresh-token step has not run: the request is not complete and nothing is logged.
    expect(await query(`SELECT log_id FROM log_events`)).toEqual([]);
  });

  it('a redelivered event changes nothing and writes nothing new', async () => {
    const bob = 'auth0|bob';
    await insertUser(bob);
    await insertSession('s_b1', bob, '2026-01-01T10:00:00Z', ['app-a']);
    await insertSession('s_b2', bob, '2026-01-01T10:00:00Z', []);
    const value = await insertRequest('lr_bob', [bob], '2026-01-01T11:00:00Z');
    await produce(kafka, requestedTopic, [{ key: bob, value }]);
    await stepDone('lr_bob');
    await pollUntil(async () => terminatedEventsOf('lr_bob'), (e) => e.length >= 1, { what: 'the sessions-terminated event of lr_bob' });
    const sessionsBefore = await sessionsOf(bob);

    const [again] = await produce(kafka, requestedTopic, [{ key: bob, value }]);
    await handledPast(kafka, `${prefix}session-terminator`, requestedTopic, again);
    await outboxEmpty();
    await reader.caughtUp();

    expect(await sessionsOf(bob)).toEqual(sessionsBefore);
    expect(sessionsBefore.map((s) => [s.id, s.revoked_by])).toEqual([
      ['s_b1', 'lr_bob'],
      ['s_b2', 'lr_bob'],
    ]);
    expect(await requestRow('lr_bob')).toEqual({ sessions_revoked: 2, refresh_tokens_revoked: null, completed_at: null });
    expect(terminatedEventsOf('lr_bob').map((e) => e.payload.sessions)).toEqual([
      [
        { sessionId: 's_b1', userId: bob, clientIds: ['app-a'] },
        { sessionId: 's_b2', userId: bob, clientIds: [] },
      ],
    ]);
    expect(await query(`SELECT log_id FROM log_events`)).toEqual([]);
    expect(reader.of(deadLetterTopic).filter((m) => m.key === bob)).toEqual([]);
  });

  it('completes an idp-logout request whose refresh tokens were revoked: one universal_logout_succeeded, published on log-events', async () => {
    const cat = 'auth0|cat';
    await insertUser(cat);
    await insertSession('s_c1', cat, '2026-01-01T10:00:00Z', ['app-a', 'app-b']);
    const value = await insertRequest('lr_cat', [cat], '2026-01-01T11:00:00Z', { refreshTokensRevoked: 3 });

    await produce(kafka, requestedTopic, [{ key: cat, value }]);
    const row = await stepDone('lr_cat');

    expect(row.sessions_revoked).toBe(1);
    expect(row.refresh_tokens_revoked).toBe(3);
    expect(row.completed_at).toBeInstanceOf(Date);
    const logs = await query<{ log_id: string; type: string; data: { details: unknown } }>(`SELECT log_id, type, data FROM log_events`);
    expect(logs.map((l) => [l.type, l.data.details])).toEqual([
      ['universal_logout_succeeded', { request_id: 'lr_cat', user_ids: [cat], sessions_revoked: 1, refresh_tokens_revoked: 3 }],
    ]);
    const published = await pollUntil(
      async () => reader.of(logEventsTopic).filter((m) => m.key === logs[0].log_id),
      (m) => m.length >= 1,
      { what: 'the log event on log-events' },
    );
    expect(published).toHaveLength(1);
    expect(JSON.parse(published[0].value)).toEqual(logs[0].data);
  });

  it('scope one terminates that session only', async () => {
    const dan = 'auth0|dan';
    await insertUser(dan);
    await insertSession('s_d1', dan, '2026-01-01T10:00:00Z', ['app-a']);
    await insertSession('s_d2', dan, '2026-01-01T10:00:00Z', ['app-a']);
    const value = await insertRequest('lr_dan', [dan], '2026-01-01T11:00:00Z', { initiator: 'session-revoked', sessions: { mode: 'one', id: 's_d2' } });

    await produce(kafka, requestedTopic, [{ key: dan, value }]);
    expect(await stepDone('lr_dan')).toEqual({ sessions_revoked: 1, refresh_tokens_revoked: null, completed_at: null });

    expect((await sessionsOf(dan)).map((s) => [s.id, s.revoked_by])).toEqual([
      ['s_d1', null],
      ['s_d2', 'lr_dan'],
    ]);
    const [event] = await pollUntil(async () => terminatedEventsOf('lr_dan'), (e) => e.length >= 1, { what: 'the event of lr_dan' });
    expect(event.payload).toEqual({ requestId: 'lr_dan', initiator: 'session-revoked', chunk: 0, allSessions: false, sessions: [{ sessionId: 's_d2', userId: dan, clientIds: ['app-a'] }] });
  });

  it('an event naming an unknown request goes to <prefix>dead-letter.v1, and nothing is revoked', async () => {
    const eve = 'auth0|eve';
    await insertUser(eve);
    await insertSession('s_e1', eve, '2026-01-01T10:00:00Z', ['app-a']);
    const value = writer.event(Topics.logoutRequested, eve, 'lr_unknown', {
      requestId: 'lr_unknown',
      initiator: 'idp-logout',
      userIds: [eve],
      connection: null,
      sessions: { mode: 'all' },
      refreshTokens: { mode: 'all' },
      acceptedAt: '2026-01-01T11:00:00.000Z',
    }).value;

    const [placed] = await produce(kafka, requestedTopic, [{ key: eve, value }]);
    const letters = await pollUntil(async () => reader.of(deadLetterTopic).filter((m) => m.key === eve), (l) => l.length >= 1, { what: 'the dead letter' });

    expect(letters.map((l) => JSON.parse(l.value) as DeadLetter)).toEqual([
      {
        sourceTopic: requestedTopic,
        partition: placed.partition,
        offset: placed.offset,
        consumerGroup: `${prefix}session-terminator`,
        error: 'unknown logout request lr_unknown',
        value,
        key: eve,
      },
    ]);
    expect(await sessionsOf(eve)).toEqual([{ id: 's_e1', revoked_at: null, revoked_by: null }]);
    expect(terminatedEventsOf('lr_unknown')).toEqual([]);
  });
});
