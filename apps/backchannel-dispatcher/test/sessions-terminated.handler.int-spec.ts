import { Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { Initiator, SessionsTerminated, Topics } from '@ulo/contracts';
import { ConsumerApp, OutboxWriter, startConsumerApp } from '@ulo/messaging';
import { OidcLogoutSettings, OutboxRepository, createDataSource } from '@ulo/persistence';
import { RpReceiver, deleteTopicsWithPrefix, dispatcherTestConfig, pollUntil, testConfig, truncateAll, uniqueSuffix } from '@ulo/testing';
import { handledPast, produce } from '../../../test/support/topic-reader';
import { BackchannelDispatcherModule } from '../src/backchannel-dispatcher.module';

interface PlannedRow {
  session_id: string | null;
  client_id: string;
  user_id: string;
  url: string;
  initiator: string;
}

/**
 * SPEC §3 "Back-channel logout": the dispatcher, in this process, plans one delivery per
 * terminated session × client that has a back-channel URL and whose initiators select the event.
 * The URLs point at a loopback receiver that accepts every token.
 */
describe('backchannel-dispatcher: sessions-terminated.v1', () => {
  const prefix = `${testConfig().kafka.topicPrefix}x${uniqueSuffix()}.`;
  const config = dispatcherTestConfig({ KAFKA_TOPIC_PREFIX: prefix });
  const kafka = new Kafka({ brokers: config.kafka.brokers, logLevel: logLevel.NOTHING });
  const writer = new OutboxWriter(prefix, new OutboxRepository());
  const topic = `${prefix}sessions-terminated.v1`;
  let dispatcher: ConsumerApp;
  let receiver: RpReceiver;
  let dataSource: DataSource;

  const query = <T>(sql: string, params: unknown[] = []): Promise<T[]> => dataSource.query(sql, params);

  async function insertClient(clientId: string, oidcLogout: OidcLogoutSettings | null): Promise<void> {
    await query(`INSERT INTO clients (client_id, name, oidc_logout) VALUES ($1, $2, $3)`, [clientId, `App ${clientId}`, oidcLogout && JSON.stringify(oidcLogout)]);
  }
  const selecting = (mode: 'all' | 'custom', selected: OidcLogoutSettings['backchannel_logout_initiators']['selected_initiators'], urls = [receiver.url]) => ({
    backchannel_logout_urls: urls,
    backchannel_logout_initiators: { mode, selected_initiators: selected },
  });

  beforeAll(async () => {
    dataSource = createDataSource(config.database.url);
    await dataSource.initialize();
    // The tests of this file tell their rows apart by request id: the signing key the dispatcher creates at start stays.
    await truncateAll(dataSource);
    receiver = await RpReceiver.start(() => 200);
    await insertClient('app-all', selecting('all', []));
    await insertClient('app-idp', selecting('custom', ['idp-logout']));
    await insertClient('app-session-revoked', selecting('custom', ['session-revoked']));
    await insertClient('app-rp-only', selecting('custom', ['rp-logout']));
    await insertClient('app-no-url', selecting('all', [], []));
    await insertClient('app-no-settings', null);
    await insertClient('app-sub-only', { ...selecting('all', []), backchannel_logout_session_required: false });
    dispatcher = await startConsumerApp('backchannel-dispatcher', BackchannelDispatcherModule.forRoot(config), config);
    await pollUntil(async () => dispatcher.server.isConsuming, Boolean, { timeoutMs: 45_000, what: 'the dispatcher to join its group' });
  }, 60_000);
  afterAll(async () => {
    await dispatcher?.app.close();
    await receiver?.close();
    await truncateAll(dataSource);
    await dataSource.destroy();
    await deleteTopicsWithPrefix(kafka, prefix);
  });

  async function publish(requestId: string, initiator: Initiator, sessions: SessionsTerminated['sessions'], chunk = 0, allSessions = false) {
    const value = writer.event(Topics.sessionsTerminated, sessions[0].userId, requestId, { requestId, initiator, chunk, allSessions, sessions }).value;
    const [placed] = await produce(kafka, topic, [{ key: sessions[0].userId, value }]);
    return { value, placed };
  }
  const plannedFor = (requestId: string) =>
    query<PlannedRow>(
      `SELECT session_id, client_id, user_id, url, initiator FROM backchannel_deliveries WHERE request_id = $1 ORDER BY session_id NULLS FIRST, client_id`,
      [requestId],
    );
  const statusesOf = async (requestId: string) =>
    (await query<{ status: string }>(`SELECT status FROM backchannel_deliveries WHERE request_id = $1`, [requestId])).map((r) => r.status);
  const allSucceeded = (requestId: string, n: number) =>
    pollUntil(() => statusesOf(requestId), (s) => s.length === n && s.every((x) => x === 'succeeded'), { what: `the ${n} deliveries of ${requestId}` });

  it('plans one delivery per session × client that has a URL and selects idp-logout (mode all, idp-logout or session-revoked)', async () => {
    const callsBefore = receiver.calls;
    await publish('lr_idp', 'idp-logout', [
      { sessionId: 's_1', userId: 'auth0|ann', clientIds: ['app-all', 'app-idp', 'app-rp-only'] },
      { sessionId: 's_2', userId: 'auth0|ann', clientIds: ['app-session-revoked', 'app-no-url', 'app-no-settings', 'app-unknown'] },
      { sessionId: 's_3', userId: 'auth0|ann', clientIds: [] },
    ]);

    const planned = await pollUntil(() => plannedFor('lr_idp'), (rows) => rows.length > 0, { what: 'the deliveries of lr_idp' });
    expect(planned).toEqual([
      { session_id: 's_1', client_id: 'app-all', user_id: 'auth0|ann', url: receiver.url, initiator: 'idp-logout' },
      { session_id: 's_1', client_id: 'app-idp', user_id: 'auth0|ann', url: receiver.url, initiator: 'idp-logout' },
      { session_id: 's_2', client_id: 'app-session-revoked', user_id: 'auth0|ann', url: receiver.url, initiator: 'idp-logout' },
    ]);
    // Delivered to the loopback receiver, once each.
    await allSucceeded('lr_idp', 3);
    expect(receiver.calls - callsBefore).toBe(3);
  });

  it('for a session-revoked request plans the clients of mode all and those selecting session-revoked only', async () => {
    await publish('lr_revoked', 'session-revoked', [
      { sessionId: 's_4', userId: 'auth0|bob', clientIds: ['app-all', 'app-idp', 'app-session-revoked', 'app-rp-only', 'app-no-url'] },
    ]);

    const planned = await pollUntil(() => plannedFor('lr_revoked'), (rows) => rows.length > 0, { what: 'the deliveries of lr_revoked' });
    expect(planned).toEqual([
      { session_id: 's_4', client_id: 'app-all', user_id: 'auth0|bob', url: receiver.url, initiator: 'session-revoked' },
      { session_id: 's_4', client_id: 'app-session-revoked', user_id: 'auth0|bob', url: receiver.url, initiator: 'session-revoked' },
    ]);
  });

  it('an event none of whose clients select it plans nothing', async () => {
    const { placed } = await publish('lr_none', 'idp-logout', [{ sessionId: 's_5', userId: 'auth0|cat', clientIds: ['app-rp-only', 'app-no-url', 'app-no-settings'] }]);
    await handledPast(kafka, `${prefix}backchannel-dispatcher`, topic, placed);

    expect(await plannedFor('lr_none')).toEqual([]);
  });

  it('a redelivered event plans and delivers nothing new', async () => {
    const sessions = [{ sessionId: 's_6', userId: 'auth0|dan', clientIds: ['app-all', 'app-idp'] }];
    const { value } = await publish('lr_again', 'idp-logout', sessions);
    await allSucceeded('lr_again', 2);
    const idsBefore = await query<{ id: string }>(`SELECT id FROM backchannel_deliveries WHERE request_id = 'lr_again' ORDER BY id`);
    const callsBefore = receiver.calls;

    const [again] = await produce(kafka, topic, [{ key: 'auth0|dan', value }]);
    await handledPast(kafka, `${prefix}backchannel-dispatcher`, topic, again);

    expect(idsBefore).toHaveLength(2);
    expect(await query(`SELECT id FROM backchannel_deliveries WHERE request_id = 'lr_again' ORDER BY id`)).toEqual(idsBefore);
    expect(await statusesOf('lr_again')).toEqual(['succeeded', 'succeeded']);
    expect(receiver.calls).toBe(callsBefore);
  });

  it('plans one sub-only delivery per user for a client that does not require sid when all sessions ended, across chunks', async () => {
    const callsBefore = receiver.calls;
    await publish('lr_all', 'idp-logout', [
      { sessionId: 's_7', userId: 'auth0|eve', clientIds: ['app-sub-only', 'app-all'] },
      { sessionId: 's_8', userId: 'auth0|eve', clientIds: ['app-sub-only'] },
    ], 0, true);
    await publish('lr_all', 'idp-logout', [{ sessionId: 's_9', userId: 'auth0|eve', clientIds: ['app-sub-only', 'app-all'] }], 1, true);

    const planned = await pollUntil(() => plannedFor('lr_all'), (rows) => rows.length === 3, { what: 'the deliveries of lr_all' });
    expect(planned).toEqual([
      { session_id: null, client_id: 'app-sub-only', user_id: 'auth0|eve', url: receiver.url, initiator: 'idp-logout' },
      { session_id: 's_7', client_id: 'app-all', user_id: 'auth0|eve', url: receiver.url, initiator: 'idp-logout' },
      { session_id: 's_9', client_id: 'app-all', user_id: 'auth0|eve', url: receiver.url, initiator: 'idp-logout' },
    ]);
    await allSucceeded('lr_all', 3);
    expect(receiver.calls - callsBefore).toBe(3);
  });

  it('a logout of one session still names it to a client that does not require sid', async () => {
    await publish('lr_one', 'session-revoked', [{ sessionId: 's_10', userId: 'auth0|fay', clientIds: ['app-sub-only'] }], 0, false);

    const planned = await pollUntil(() => plannedFor('lr_one'), (rows) => rows.length > 0, { what: 'the deliveries of lr_one' });
    expect(planned).toEqual([{ session_id: 's_10', client_id: 'app-sub-only', user_id: 'auth0|fay', url: receiver.url, initiator: 'session-revoked' }]);
  });
});
