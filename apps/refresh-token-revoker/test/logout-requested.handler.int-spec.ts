import { Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { DeadLetter, LogEvent, LogoutRequested, RevocationScope, Topics } from '@ulo/contracts';
import { ConsumerApp, OutboxWriter, startConsumerApp } from '@ulo/messaging';
import { OutboxRepository, createDataSource } from '@ulo/persistence';
import { deleteTopicsWithPrefix, pollUntil, testConfig, truncateAll, uniqueSuffix } from '@ulo/testing';
import { TopicReader, handledPast, produce } from '../../../test/support/topic-reader';
import { RefreshTokenRevokerModule } from '../src/refresh-token-revoker.module';

interface TokenRow {
  id: string;
  revoked_at: Date | null;
  revoked_by: string | null;
}

/** SPEC §3 "Refresh tokens": the refresh-token-revoker, in this process, on the run's PostgreSQL and Kafka. */
describe('refresh-token-revoker: logout-requested.v1', () => {
  const prefix = `${testConfig().kafka.topicPrefix}x${uniqueSuffix()}.`;
  const config = testConfig({ KAFKA_TOPIC_PREFIX: prefix });
  const kafka = new Kafka({ brokers: config.kafka.brokers, logLevel: logLevel.NOTHING });
  const writer = new OutboxWriter(prefix, new OutboxRepository());
  const groupId = `${prefix}refresh-token-revoker`;
  const requestedTopic = `${prefix}logout-requested.v1`;
  const deadLetterTopic = `${prefix}dead-letter.v1`;
  const logEventsTopic = `${prefix}log-events`;
  let revoker: ConsumerApp;
  let reader: TopicReader;
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = createDataSource(config.database.url);
    await dataSource.initialize();
    revoker = await startConsumerApp('refresh-token-revoker', RefreshTokenRevokerModule.forRoot(config), config);
    await pollUntil(async () => revoker.server.isConsuming, Boolean, { timeoutMs: 45_000, what: 'the refresh-token-revoker to join its group' });
    reader = await TopicReader.start(kafka, `${prefix}reader`, [deadLetterTopic, logEventsTopic]);
  }, 60_000);
  afterAll(async () => {
    await reader?.close();
    await revoker?.app.close();
    await truncateAll(dataSource);
    await dataSource.destroy();
    await deleteTopicsWithPrefix(kafka, prefix);
  });
  beforeEach(async () => truncateAll(dataSource));

  const query = <T>(sql: string, params: unknown[] = []): Promise<T[]> => dataSource.query(sql, params);

  async function insertToken(id: string, userId: string, clientId: string, sessionId: string | null, createdAt: string, revoked?: { at: string; by: string }) {
    await query(
      `INSERT INTO refresh_tokens (id, user_id, client_id, session_id, created_at, revoked_at, revoked_by) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [id, userId, clientId, sessionId, createdAt, revoked?.at ?? null, revoked?.by ?? null],
    );
  }

  /** A logout request as the gateway accepts it (`created_at` given), and its event's value. */
  async function insertRequest(id: string, userIds: string[], createdAt: string, refreshTokens: RevocationScope = { mode: 'all' }): Promise<string> {
    const payload: LogoutRequested = {
      requestId: id,
      initiator: 'idp-logout',
      userIds,
      connection: { id: 'con_acme', name: 'acme-okta' },
      sessions: { mode: 'all' },
      refreshTokens,
      acceptedAt: createdAt,
    };
    await query(
      `INSERT INTO logout_requests (id, initiator, connection_id, connection_name, user_ids, payload, created_at)
       VALUES ($1, 'idp-logout', 'con_acme', 'acme-okta', $2, $3, $4)`,
      [id, userIds, JSON.stringify(payload), createdAt],
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
    pollUntil(() => requestRow(id), (r) => r.refresh_tokens_revoked !== null, { what: `the refresh-token step of ${id}` });
  const tokensOf = (userId: string) =>
    query<TokenRow>(`SELECT id, revoked_at, revoked_by FROM refresh_tokens WHERE user_id = $1 ORDER BY id`, [userId]);
  const logEvents = async () => (await query<{ data: LogEvent }>(`SELECT data FROM log_events ORDER BY log_id`)).map((r) => r.data);
  const outboxEmpty = () => pollUntil(async () => (await query(`SELECT id FROM outbox`)).length, (n) => n === 0, { what: 'the outbox to be published' });

  it('revokes every active refresh token, online and offline, issued before the request, with one srrt event per token', async () => {
    const ann = 'auth0|ann';
    await query(`INSERT INTO users (user_id) VALUES ($1), ('auth0|other')`, [ann]);
    await insertToken('rt_online_1', ann, 'app-a', 's_1', '2026-01-01T10:00:00Z');
    await insertToken('rt_online_2', ann, 'app-b', 's_2', '2026-01-01T10:30:00Z');
    await insertToken('rt_offline', ann, 'app-a', null, '2026-01-01T09:00:00Z');
    await insertToken('rt_late', ann, 'app-a', 's_3', '2026-01-01T11:00:01Z');
    await insertToken('rt_old', ann, 'app-a', null, '2026-01-01T08:00:00Z', { at: '2026-01-01T08:30:00Z', by: 'lr_earlier' });
    await insertToken('rt_other', 'auth0|other', 'app-a', null, '2026-01-01T10:00:00Z');
    const value = await insertRequest('lr_ann', [ann], '2026-01-01T11:00:00Z');

    await produce(kafka, requestedTopic, [{ key: ann, value }]);
    const row = await stepDone('lr_ann');

    expect(row).toEqual({ sessions_revoked: null, refresh_tokens_revoked: 3, completed_at: null });
    const tokens = await tokensOf(ann);
    expect(tokens.map((t) => [t.id, t.revoked_by])).toEqual([
      ['rt_late', null],
      ['rt_offline', 'lr_ann'],
      ['rt_old', 'lr_earlier'],
      ['rt_online_1', 'lr_ann'],
      ['rt_online_2', 'lr_ann'],
    ]);
    for (const t of tokens.filter((t) => t.revoked_by === 'lr_ann')) expect(t.revoked_at).toBeInstanceOf(Date);
    expect(tokens.find((t) => t.id === 'rt_old')!.revoked_at).toEqual(new Date('2026-01-01T08:30:00Z'));
    expect(tokens.find((t) => t.id === 'rt_late')!.revoked_at).toBeNull();
    expect(await tokensOf('auth0|other')).toEqual([{ id: 'rt_other', revoked_at: null, revoked_by: null }]);

    const events = await logEvents();
    // In token id order (the order they were revoked in), log_ids ascending.
    expect(events.map((e) => [e.type, e.user_id, e.client_id, e.connection, e.connection_id, e.details])).toEqual([
      ['srrt', ann, 'app-a', 'acme-okta', 'con_acme', { credential_id: 'rt_offline', session_id: null, request_id: 'lr_ann', initiator: 'idp-logout' }],
      ['srrt', ann, 'app-a', 'acme-okta', 'con_acme', { credential_id: 'rt_online_1', session_id: 's_1', request_id: 'lr_ann', initiator: 'idp-logout' }],
      ['srrt', ann, 'app-b', 'acme-okta', 'con_acme', { credential_id: 'rt_online_2', session_id: 's_2', request_id: 'lr_ann', initiator: 'idp-logout' }],
    ]);
    // SPEC §5: each one published on log-events, keyed by its log_id, as stored.
    const published = await pollUntil(
      async () => reader.of(logEventsTopic).filter((m) => events.some((e) => e.log_id === m.key)),
      (m) => m.length >= 3,
      { what: 'the three srrt events on log-events' },
    );
    expect(published).toHaveLength(3);
    expect(published.map((m) => JSON.parse(m.value) as LogEvent).sort((a, b) => a.log_id.localeCompare(b.log_id))).toEqual(events);
  });

  it('a redelivered event revokes nothing twice and logs nothing twice', async () => {
    const bob = 'auth0|bob';
    await query(`INSERT INTO users (user_id) VALUES ($1)`, [bob]);
    await insertToken('rt_b1', bob, 'app-a', 's_b1', '2026-01-01T10:00:00Z');
    await insertToken('rt_b2', bob, 'app-a', null, '2026-01-01T10:00:00Z');
    const value = await insertRequest('lr_bob', [bob], '2026-01-01T11:00:00Z');
    await produce(kafka, requestedTopic, [{ key: bob, value }]);
    await stepDone('lr_bob');
    await outboxEmpty();
    await reader.caughtUp();
    const tokensBefore = await tokensOf(bob);
    const eventsBefore = await logEvents();
    const publishedBefore = reader.of(logEventsTopic).length;

    const [again] = await produce(kafka, requestedTopic, [{ key: bob, value }]);
    await handledPast(kafka, groupId, requestedTopic, again);
    await outboxEmpty();
    await reader.caughtUp();

    expect(tokensBefore.map((t) => [t.id, t.revoked_by])).toEqual([
      ['rt_b1', 'lr_bob'],
      ['rt_b2', 'lr_bob'],
    ]);
    expect(await tokensOf(bob)).toEqual(tokensBefore);
    expect(eventsBefore).toHaveLength(2);
    expect(await logEvents()).toEqual(eventsBefore);
    expect(reader.of(logEventsTopic)).toHaveLength(publishedBefore);
    expect(await requestRow('lr_bob')).toEqual({ sessions_revoked: null, refresh_tokens_revoked: 2, completed_at: null });
    expect(reader.of(deadLetterTopic).filter((m) => m.key === bob)).toEqual([]);
  });

  it('scope {mode: one, id} revokes that one token only', async () => {
    const cat = 'auth0|cat';
    await query(`INSERT INTO users (user_id) VALUES ($1)`, [cat]);
    await insertToken('rt_c1', cat, 'app-a', 's_c1', '2026-01-01T10:00:00Z');
    await insertToken('rt_c2', cat, 'app-b', 's_c2', '2026-01-01T10:00:00Z');
    await insertToken('rt_c3', cat, 'app-a', null, '2026-01-01T10:00:00Z');
    const value = await insertRequest('lr_cat', [cat], '2026-01-01T11:00:00Z', { mode: 'one', id: 'rt_c2' });

    await produce(kafka, requestedTopic, [{ key: cat, value }]);
    expect(await stepDone('lr_cat')).toEqual({ sessions_revoked: null, refresh_tokens_revoked: 1, completed_at: null });

    expect((await tokensOf(cat)).map((t) => [t.id, t.revoked_by])).toEqual([
      ['rt_c1', null],
      ['rt_c2', 'lr_cat'],
      ['rt_c3', null],
    ]);
    expect((await logEvents()).map((e) => [e.type, e.client_id, e.details])).toEqual([
      ['srrt', 'app-b', { credential_id: 'rt_c2', session_id: 's_c2', request_id: 'lr_cat', initiator: 'idp-logout' }],
    ]);
  });

  it('an event naming an unknown request goes to <prefix>dead-letter.v1, and nothing is revoked', async () => {
    const dan = 'auth0|dan';
    await query(`INSERT INTO users (user_id) VALUES ($1)`, [dan]);
    await insertToken('rt_d1', dan, 'app-a', null, '2026-01-01T10:00:00Z');
    const value = writer.event(Topics.logoutRequested, dan, 'lr_unknown', {
      requestId: 'lr_unknown',
      initiator: 'idp-logout',
      userIds: [dan],
      connection: null,
      sessions: { mode: 'all' },
      refreshTokens: { mode: 'all' },
      acceptedAt: '2026-01-01T11:00:00.000Z',
    }).value;

    const [placed] = await produce(kafka, requestedTopic, [{ key: dan, value }]);
    const letters = await pollUntil(async () => reader.of(deadLetterTopic).filter((m) => m.key === dan), (l) => l.length >= 1, { what: 'the dead letter' });

    expect(letters.map((l) => JSON.parse(l.value) as DeadLetter)).toEqual([
      {
        sourceTopic: requestedTopic,
        partition: placed.partition,
        offset: placed.offset,
        consumerGroup: groupId,
        error: 'unknown logout request lr_unknown',
        value,
        key: dan,
      },
    ]);
    expect(await tokensOf(dan)).toEqual([{ id: 'rt_d1', revoked_at: null, revoked_by: null }]);
    expect(await logEvents()).toEqual([]);
  });
});
