import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DataSource } from 'typeorm';
import { APP_CONFIG, BackchannelDispatcherConfig } from '@ulo/config';
import { LogEventInput } from '@ulo/contracts';
import { LogEventRecorder, OutboxRelay } from '@ulo/messaging';
import {
  BackchannelDeliveryRepository,
  DatabaseConnection,
  SigningKeyRepository,
  type AttemptOutcome,
  type DueDelivery,
} from '@ulo/persistence';
import { OutboundRequestException, SafeHttpClient, SigningKeyStore, UnsafeUrlException, signLogoutToken } from '@ulo/security';
import { ClientRepository } from '../clients/client.repository';
import { verdictFor } from './retry-policy';

/** Client names for the log lines: read again after a minute, a bounded number kept. */
const CLIENT_NAMES = { max: 10_000, ttl: 60_000 };

/**
 * One attempt of SPEC §4 delivery: a freshly signed logout token POSTed form-encoded, 5 s timeout,
 * no redirects, the resolved address checked again; then the verdict (succeeded, failed for good,
 * retry later, parked) and its log event, written together.
 */
@Injectable()
export class DeliverLogoutToken implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(DeliverLogoutToken.name);
  private readonly http: SafeHttpClient;
  private readonly keys: SigningKeyStore;
  private readonly clientNames = new LRUCache<string, { name: string | null }>(CLIENT_NAMES);

  constructor(
    private readonly dataSource: DataSource,
    private readonly deliveries: BackchannelDeliveryRepository,
    private readonly clients: ClientRepository,
    private readonly logs: LogEventRecorder,
    private readonly relay: OutboxRelay,
    @Inject(APP_CONFIG) private readonly config: BackchannelDispatcherConfig,
    private readonly database: DatabaseConnection,
    signingKeys: SigningKeyRepository,
  ) {
    this.http = new SafeHttpClient(config.security.allowPrivateNetworkUrls, config.backchannel.timeoutMs, 256);
    this.keys = new SigningKeyStore(signingKeys, config.security.signingKeyEncryptionSecret);
  }

  /** Whichever app starts first creates the first signing key. */
  async onApplicationBootstrap(): Promise<void> {
    await this.database.startupTask('creating the first signing key', () => this.keys.ensureCurrent());
  }

  async onModuleDestroy(): Promise<void> {
    await this.http.close();
  }

  async execute(d: DueDelivery): Promise<void> {
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const key = await this.keys.current();
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
    await this.record(d, { statusCode, error });
  }

  private async record(d: DueDelivery, outcome: AttemptOutcome): Promise<void> {
    const { statusCode, error } = outcome;
    const ageMs = Date.now() - d.createdAt.getTime();
    const verdict = verdictFor(statusCode, d.attempts, ageMs, {
      baseMs: this.config.backchannel.retryBaseMs,
      maxDelayMs: this.config.backchannel.retryMaxDelayMs,
      windowSeconds: this.config.backchannel.retryWindowSeconds,
    });
    if (verdict.kind === 'retry') {
      await this.deliveries.retryLater(d.id, verdict.delayMs, outcome);
      this.log.warn(`delivery ${d.id} to ${d.clientId} attempt ${d.attempts}: ${error}; retrying in ${verdict.delayMs} ms`);
      return;
    }
    const clientName = await this.clientName(d.clientId);
    await this.dataSource.transaction(async (tx) => {
      await this.deliveries.finish(tx, d.id, verdict.kind, outcome);
      await this.logs.record(tx, [this.logEvent(d, verdict.kind === 'succeeded', statusCode, error, clientName)]);
    });
    this.relay.kick();
  }

  private logEvent(d: DueDelivery, succeeded: boolean, statusCode: number | null, error: string | null, clientName: string | null): LogEventInput {
    const request = { method: 'POST', backchannel_logout_uri: d.url };
    return {
      type: succeeded ? 'oidc_backchannel_logout_succeeded' : 'oidc_backchannel_logout_failed',
      description: succeeded ? 'Back-channel logout token accepted by the application' : 'Back-channel logout failed',
      client_id: d.clientId,
      client_name: clientName,
      user_id: d.userId,
      details: {
        request,
        response: { statusCode },
        initiator: d.initiator,
        session_id: d.sessionId,
        request_id: d.requestId,
        delivery_id: d.id,
        attempts: d.attempts,
        ...(succeeded ? {} : { errors: [error ?? 'unknown error'] }),
      },
    };
  }

  private async clientName(clientId: string): Promise<string | null> {
    const cached = this.clientNames.get(clientId);
    if (cached) return cached.name;
    const [client] = await this.clients.settingsOf([clientId]);
    const name = client?.name ?? null;
    this.clientNames.set(clientId, { name });
    return name;
  }
}
