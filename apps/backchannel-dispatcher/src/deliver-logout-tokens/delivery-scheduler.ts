import { Inject, Injectable, Logger, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@ulo/config';
import { normalise } from '@ulo/persistence';
import { OutageReporter, isTransient } from '@ulo/resilience';
import { DeliverLogoutToken, DueDelivery } from './deliver-logout-token.usecase';

/** How long a claimed delivery stays invisible to other instances: a crash makes it due again after it. */
const LEASE_SECONDS = 60;

/**
 * Claims due deliveries from PostgreSQL and runs them with bounded concurrency, overall and per
 * client: a hanging application can occupy at most its own slots, so the others go on. Several
 * dispatcher instances share the work through FOR UPDATE SKIP LOCKED and a lease.
 */
@Injectable()
export class DeliveryScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(DeliveryScheduler.name);
  private readonly outage = new OutageReporter(this.log, 'PostgreSQL (claiming back-channel deliveries)');
  private readonly inFlightByClient = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  private claiming: Promise<void> | null = null;
  private again = false;
  private stopped = true;

  constructor(
    private readonly dataSource: DataSource,
    private readonly deliver: DeliverLogoutToken,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.config.backchannel.pollIntervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Before the database closes (in a shutdown hook): the claim and the deliveries in flight finish. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.claiming;
    await Promise.allSettled([...this.running]);
  }

  /** Look for due work now (after new deliveries were planned, or a slot was freed). */
  kick(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    this.claiming = this.claimAndStart()
      .then(() => this.outage.recovered())
      .catch((err: Error) => (isTransient(err) ? this.outage.failed(err) : this.log.warn(`claiming deliveries failed: ${err.message}`)))
      .finally(() => {
        this.claiming = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async claimAndStart(): Promise<void> {
    const { concurrency, concurrencyPerClient } = this.config.backchannel;
    const free = concurrency - this.inFlight;
    if (free <= 0) return;
    const saturated = [...this.inFlightByClient].filter(([, n]) => n >= concurrencyPerClient).map(([c]) => c);
    // Client by client (one index range each), at most `concurrencyPerClient` due rows per client,
    // never for a client whose slots here are all taken: one client's backlog cannot crowd out the
    // others, and the cost of a claim does not grow with the backlog.
    const rows: DueDelivery[] = await this.dataSource
      .query(
        `WITH RECURSIVE due_clients (client_id) AS (
           -- A loose index scan: one probe per client with due work, whatever the backlog.
           (SELECT client_id FROM backchannel_deliveries
            WHERE status = 'pending' AND next_attempt_at <= now() ORDER BY client_id LIMIT 1)
           UNION ALL
           SELECT (SELECT b.client_id FROM backchannel_deliveries b
                   WHERE b.status = 'pending' AND b.next_attempt_at <= now() AND b.client_id > c.client_id
                   ORDER BY b.client_id LIMIT 1)
           FROM due_clients c WHERE c.client_id IS NOT NULL
         ), picked AS (
           SELECT d.id FROM due_clients c
           CROSS JOIN LATERAL (
             SELECT id, next_attempt_at FROM backchannel_deliveries
             WHERE status = 'pending' AND client_id = c.client_id AND next_attempt_at <= now()
             ORDER BY next_attempt_at, id LIMIT $2
             FOR UPDATE SKIP LOCKED
           ) d
           WHERE c.client_id IS NOT NULL AND NOT (c.client_id = ANY($3::text[]))
           ORDER BY d.next_attempt_at LIMIT $1
         )
         UPDATE backchannel_deliveries b
         SET attempts = b.attempts + 1, next_attempt_at = now() + make_interval(secs => ${LEASE_SECONDS}), updated_at = now()
         FROM picked WHERE b.id = picked.id
         RETURNING b.id, b.request_id, b.session_id, b.user_id, b.client_id, b.url, b.initiator, b.attempts, b.created_at`,
        [free, concurrencyPerClient, saturated],
      )
      .then((r: DueDelivery[] | [DueDelivery[], number]) => normalise(r));

    for (const row of rows) {
      const clientCount = this.inFlightByClient.get(row.client_id) ?? 0;
      this.inFlight++;
      this.inFlightByClient.set(row.client_id, clientCount + 1);
      const run = this.deliver
        .execute(row)
        .catch((err: Error) => this.log.error(`delivery ${row.id} failed unexpectedly: ${err.message}`))
        .finally(() => {
          this.inFlight--;
          const n = (this.inFlightByClient.get(row.client_id) ?? 1) - 1;
          if (n <= 0) this.inFlightByClient.delete(row.client_id);
          else this.inFlightByClient.set(row.client_id, n);
          this.running.delete(run);
          // Refill in batches, not after every single delivery: a claim is a query.
          if (this.inFlight <= this.config.backchannel.concurrency / 2) this.kick();
        });
      this.running.add(run);
    }
  }
}
