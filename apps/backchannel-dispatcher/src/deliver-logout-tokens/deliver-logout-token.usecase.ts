import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Counter, register } from 'prom-client';
import { DataSource } from 'typeorm';
import { APP_CONFIG, BackchannelDispatcherConfig } from '@ulo/config';
import { LogEventInput, MetricSeries } from '@ulo/contracts';
import { LogEventRecorder, OutboxRelay } from '@ulo/messaging';
import {
  BackchannelDeliveryRepository,
  DatabaseConnection,
  GroupCommit,
  SigningKeyRepository,
  type AttemptOutcome,
  type DeliveryCompletion,
  type DueDelivery,
} from '@ulo/persistence';
import { OutboundRequestException, SafeHttpClient, SigningKeyStore, UnsafeUrlException, signLogoutToken } from '@ulo/security';
import { verdictFor } from './retry-policy';

/** Outcomes written by one statement at most: a commit of them takes a few milliseconds. */
const OUTCOMES_PER_COMMIT = 256;

/** The outcome label of each status an attempt is written with. */
const OUTCOME: Readonly<Record<DeliveryCompletion['status'], string>> = {
  succeeded: 'succeeded',
  failed: 'failed',
  pending: 'retry',
  parked: 'parked',
};

const deliveries = new Counter({
  name: MetricSeries.backchannelDeliveries.name,
  help: MetricSeries.backchannelDeliveries.help,
  labelNames: MetricSeries.backchannelDeliveries.labelNames,
  registers: [register],
});
for (const outcome of Object.values(OUTCOME)) deliveries.labels({ outcome }).inc(0);

interface Attempted {
  delivery: DueDelivery;
  completion: DeliveryCompletion;
}

/**
 * One attempt of SPEC §4 delivery: a freshly signed logout token (the client's algorithm; `sid`
 * unless the delivery is `sub`-only) POSTed form-encoded, 5 s timeout, no redirects, the resolved
 * address checked again; then the verdict (succeeded, failed for good, retry later, parked). The
 * verdicts of the attempts that end together are written by one statement, with the log events
 * of the final ones, in one transaction (a group commit).
 */
@Injectable()
export class DeliverLogoutToken implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(DeliverLogoutToken.name);
  private readonly http: SafeHttpClient;
  private readonly keys: SigningKeyStore;
  private readonly outcomes = new GroupCommit<Attempted, void>((items) => this.write(items), OUTCOMES_PER_COMMIT);

  constructor(
    private readonly dataSource: DataSource,
    private readonly deliveries: BackchannelDeliveryRepository,
    private readonly logs: LogEventRecorder,
    private readonly relay: OutboxRelay,
    @Inject(APP_CONFIG) private readonly config: BackchannelDispatcherConfig,
    private readonly database: DatabaseConnection,
    signingKeys: SigningKeyRepository,
  ) {
    // Keep-alive sockets per application origin, at most as many as a client may have in flight.
    this.http = new SafeHttpClient(config.security.allowPrivateNetworkUrls, config.backchannel.timeoutMs, config.backchannel.concurrencyPerClient);
    this.keys = new SigningKeyStore(signingKeys, config.security.signingKeyEncryptionSecret);
  }

  /** Whichever app starts first creates the first signing keys. */
  async onApplicationBootstrap(): Promise<void> {
    await this.database.startupTask('creating the first signing keys', () => this.keys.ensureCurrent());
  }

  async onModuleDestroy(): Promise<void> {
    await this.http.close();
  }

  async execute(d: DueDelivery): Promise<void> {
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const key = await this.keys.current(d.signingAlg);
      const { token } = await signLogoutToken(
        { issuer: `${this.config.publicBaseUrl}/`, clientId: d.clientId, userId: d.userId, sessionId: d.sessionId },
        key,
      );
      const res = await this.http.send('POST', d.url, {
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'cache-control': 'no-store' },
        body: new URLSearchParams({ logout_token: token }).toString(),
      });
      statusCode = res.status;
      if (res.status >= 300) error = `the application answered ${res.status}${res.body ? `: ${res.body.slice(0, 200)}` : ''}`;
    } catch (err) {
      // A URL that became unsafe (e.g. now resolves to a private address) is never going to work.
      if (err instanceof UnsafeUrlException) {
        statusCode = 400;
        error = `refused: ${err.message}`;
      } else if (err instanceof OutboundRequestException) {
        error = `${err.code}: ${err.message}`;
      } else {
        throw err;
      }
    }
    await this.outcomes.submit({ delivery: d, completion: this.verdict(d, { statusCode, error }) });
  }

  private verdict(d: DueDelivery, outcome: AttemptOutcome): DeliveryCompletion {
    const verdict = verdictFor(outcome.statusCode, d.attempts, Date.now() - d.createdAt.getTime(), {
      baseMs: this.config.backchannel.retryBaseMs,
      maxDelayMs: this.config.backchannel.retryMaxDelayMs,
      windowSeconds: this.config.backchannel.retryWindowSeconds,
    });
    if (verdict.kind !== 'retry') return { id: d.id, status: verdict.kind, ...outcome };
    this.log.warn(`delivery ${d.id} to ${d.clientId} attempt ${d.attempts}: ${outcome.error}; retrying in ${verdict.delayMs} ms`);
    return { id: d.id, status: 'pending', retryInMs: verdict.delayMs, ...outcome };
  }

  /** One transaction for the outcomes that ended together, their log events in it. */
  private async write(items: Attempted[]): Promise<void[]> {
    const final = items.filter((i) => i.completion.status !== 'pending');
    await this.dataSource.transaction(async (tx) => {
      await this.deliveries.complete(
        tx,
        items.map((i) => i.completion),
      );
      if (final.length > 0) await this.logs.record(tx, final.map((i) => this.logEvent(i)));
    });
    // Counted once written: an outcome whose commit failed is attempted again.
    for (const { completion } of items) deliveries.inc({ outcome: OUTCOME[completion.status] });
    if (final.length > 0) this.relay.kick();
    return items.map(() => undefined);
  }

  private logEvent({ delivery: d, completion }: Attempted): LogEventInput {
    const succeeded = completion.status === 'succeeded';
    const request = { method: 'POST', backchannel_logout_uri: d.url };
    return {
      type: succeeded ? 'oidc_backchannel_logout_succeeded' : 'oidc_backchannel_logout_failed',
      description: succeeded ? 'Back-channel logout token accepted by the application' : 'Back-channel logout failed',
      client_id: d.clientId,
      client_name: d.clientName,
      user_id: d.userId,
      details: {
        request,
        response: { statusCode: completion.statusCode },
        initiator: d.initiator,
        session_id: d.sessionId,
        kind: d.sessionId === null ? 'sub' : 'sid',
        request_id: d.requestId,
        delivery_id: d.id,
        attempts: d.attempts,
        ...(succeeded ? {} : { errors: [completion.error ?? 'unknown error'] }),
      },
    };
  }
}
