import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig, signingSecretOf } from '@ulo/config';
import { LogEventInput } from '@ulo/contracts';
import { LogEventRecorder, OutboxRelay } from '@ulo/messaging';
import { DatabaseConnection } from '@ulo/persistence';
import { OutboundRequestException, SafeHttpClient, SigningKeyStore, UnsafeUrlException, signLogoutToken } from '@ulo/security';
import { verdictFor } from './retry-policy';

export interface DueDelivery {
  id: string;
  request_id: string;
  session_id: string;
  user_id: string;
  client_id: string;
  url: string;
  initiator: string;
  attempts: number;
  created_at: Date;
}

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
  private readonly clientNames = new Map<string, { name: string | null; until: number }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly logs: LogEventRecorder,
    private readonly relay: OutboxRelay,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly database: DatabaseConnection,
  ) {
    this.http = new SafeHttpClient(config.security.allowPrivateNetworkUrls, config.backchannel.timeoutMs, 256);
    this.keys = new SigningKeyStore(dataSource, signingSecretOf(config));
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
        { issuer: `${this.config.publicBaseUrl}/`, clientId: d.client_id, userId: d.user_id, sessionId: d.session_id },
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
    await this.record(d, statusCode, error);
  }

  private async record(d: DueDelivery, statusCode: number | null, error: string | null): Promise<void> {
    const ageMs = Date.now() - new Date(d.created_at).getTime();
    const verdict = verdictFor(statusCode, d.attempts, ageMs, {
      baseMs: this.config.backchannel.retryBaseMs,
      maxDelayMs: this.config.backchannel.retryMaxDelayMs,
      windowSeconds: this.config.backchannel.retryWindowSeconds,
    });
    if (verdict.kind === 'retry') {
      await this.dataSource.query(
        `UPDATE backchannel_deliveries SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000),
           last_status_code = $3, last_error = $4, updated_at = now() WHERE id = $1`,
        [d.id, verdict.delayMs, statusCode, error],
      );
      this.log.warn(`delivery ${d.id} to ${d.client_id} attempt ${d.attempts}: ${error}; retrying in ${verdict.delayMs} ms`);
      return;
    }
    const clientName = await this.clientName(d.client_id);
    await this.dataSource.transaction(async (tx) => {
      await tx.query(
        `UPDATE backchannel_deliveries SET status = $2, last_status_code = $3, last_error = $4, updated_at = now() WHERE id = $1`,
        [d.id, verdict.kind, statusCode, error],
      );
      await this.logs.record(tx, [this.logEvent(d, verdict.kind === 'succeeded', statusCode, error, clientName)]);
    });
    this.relay.kick();
  }

  private logEvent(d: DueDelivery, succeeded: boolean, statusCode: number | null, error: string | null, clientName: string | null): LogEventInput {
    const request = { method: 'POST', backchannel_logout_uri: d.url };
    return {
      type: succeeded ? 'oidc_backchannel_logout_succeeded' : 'oidc_backchannel_logout_failed',
      description: succeeded ? 'Back-channel logout token accepted by the application' : 'Back-channel logout failed',
      client_id: d.client_id,
      client_name: clientName,
      user_id: d.user_id,
      details: {
        request,
        response: { statusCode },
        initiator: d.initiator,
        session_id: d.session_id,
        request_id: d.request_id,
        delivery_id: d.id,
        attempts: d.attempts,
        ...(succeeded ? {} : { errors: [error ?? 'unknown error'] }),
      },
    };
  }

  private async clientName(clientId: string): Promise<string | null> {
    const cached = this.clientNames.get(clientId);
    if (cached && cached.until > Date.now()) return cached.name;
    const [row] = await this.dataSource.query(`SELECT name FROM clients WHERE client_id = $1`, [clientId]);
    const name = (row?.name as string | undefined) ?? null;
    this.clientNames.set(clientId, { name, until: Date.now() + 60_000 });
    return name;
  }
}
