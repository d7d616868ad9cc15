import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import { ConnectionEntity, ConnectionRepository } from '@ulo/persistence';
import { storedSsfOptionsOf } from '../connections/ssf-options';
import { SsfSecrets } from '../connections/ssf-secrets';
import { SsfTransmitterClient } from '../connections/ssf-transmitter.client';
import { AcceptSecurityEvent } from './accept-security-event.usecase';
import type { SetDelivery } from './set-delivery';
import { SsfException } from './ssf.exception';

/** RFC 8936 §2.4 maxEvents: SETs asked for per poll. */
const MAX_EVENTS = 25;
/** Polls per connection per round while the transmitter says moreAvailable; the rest waits for the next round. */
const MAX_POLLS_PER_ROUND = 10;

/**
 * SPEC §9, RFC 8936 poll delivery: every SSF_POLL_INTERVAL_MS, each connection with
 * `options.ssf.delivery` "poll" and a stream is polled at the endpoint its transmitter gave the
 * stream, with a client credentials token. Each SET fetched goes through the same checks as a
 * pushed one (AcceptSecurityEvent.accept, from the signature on); one accepted or refused (400)
 * is acknowledged in the next poll, one that could not be recorded (503) is not, so the
 * transmitter delivers it again. A replay is refused by its jti, so a SET is applied once.
 */
@Injectable()
export class SsfPollScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(SsfPollScheduler.name);
  /** jtis to acknowledge in the next poll, per connection id. */
  private readonly acks = new Map<string, Set<string>>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    private readonly connections: ConnectionRepository,
    private readonly secrets: SsfSecrets,
    private readonly transmitter: SsfTransmitterClient,
    private readonly acceptSecurityEvent: AcceptSecurityEvent,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), this.config.ssf.pollIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One round at a time: a slow transmitter delays the next round, it does not stack them. */
  private tick(): void {
    if (this.running) return;
    this.running = this.pollAll()
      .catch((err: unknown) => this.log.warn(`SSF poll round failed: ${(err as Error).message}`))
      .finally(() => (this.running = null));
  }

  private async pollAll(): Promise<void> {
    for (const connection of await this.connections.polling()) {
      try {
        await this.pollOne(connection);
      } catch (err) {
        this.log.warn(`SSF poll of connection ${connection.name} failed: ${(err as Error).message}`);
      }
    }
  }

  private async pollOne(connection: ConnectionEntity): Promise<void> {
    const ssf = storedSsfOptionsOf(connection.options);
    if (ssf?.delivery !== 'poll' || ssf.poll_endpoint === undefined) return;
    const credentials = await this.secrets.clientCredentials(connection.id, ssf);
    if (!credentials) return;
    const session = await this.transmitter.session(ssf.issuer, credentials);
    for (let poll = 0; poll < MAX_POLLS_PER_ROUND; poll++) {
      const pending = this.acks.get(connection.id) ?? new Set<string>();
      // RFC 8936 §2.2, §2.4: acknowledge what was taken, ask for what is there without waiting.
      const answer = await this.transmitter.call(session, 'POST', ssf.poll_endpoint, { ack: [...pending], returnImmediately: true, maxEvents: MAX_EVENTS });
      if (answer.status !== 200) throw new Error(`the poll endpoint answered ${answer.status}`);
      // The transmitter has the acknowledgements; those of this answer's SETs go with the next poll.
      this.acks.delete(connection.id);
      const { sets, moreAvailable } = pollAnswerOf(answer.body);
      for (const [jti, setJwt] of sets) await this.acceptOne(connection, jti, setJwt);
      if (!moreAvailable) return;
    }
  }

  private async acceptOne(connection: ConnectionEntity, jti: string, setJwt: string): Promise<void> {
    const delivery: SetDelivery = { origin: {}, authenticated: true };
    try {
      await this.acceptSecurityEvent.accept(connection, setJwt, delivery);
    } catch (err) {
      if (!(err instanceof SsfException)) throw err;
      await this.acceptSecurityEvent.recordRejection(connection.name, delivery, err);
      // Not recorded (503): not acknowledged, so it comes again; refused (400): delivering it again cannot help.
      if (err.status === 503) return;
    }
    const pending = this.acks.get(connection.id) ?? new Set<string>();
    pending.add(jti);
    this.acks.set(connection.id, pending);
  }
}

/** RFC 8936 §2.3: `{"sets": {<jti>: <SET>}, "moreAvailable": bool}`; members of another shape are skipped. */
function pollAnswerOf(body: unknown): { sets: [string, string][]; moreAvailable: boolean } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('the poll endpoint answered no JSON object');
  const { sets, moreAvailable } = body as { sets?: unknown; moreAvailable?: unknown };
  const entries = typeof sets === 'object' && sets !== null && !Array.isArray(sets) ? Object.entries(sets as Record<string, unknown>) : [];
  return {
    sets: entries.filter((e): e is [string, string] => typeof e[1] === 'string').slice(0, MAX_EVENTS),
    moreAvailable: moreAvailable === true,
  };
}
