import { Inject, Injectable, Logger, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { Gauge, register } from 'prom-client';
import { APP_CONFIG, BackchannelDispatcherConfig } from '@ulo/config';
import { MetricSeries } from '@ulo/contracts';
import { BackchannelDeliveryRepository } from '@ulo/persistence';
import { OutageReporter, isTransient } from '@ulo/resilience';
import { DeliverLogoutToken } from './deliver-logout-token.usecase';

/** How long a claimed delivery stays invisible to other instances: a crash makes it due again after it. */
const LEASE_SECONDS = 60;

const inFlightGauge = new Gauge({
  name: MetricSeries.backchannelDeliveriesInFlight.name,
  help: MetricSeries.backchannelDeliveriesInFlight.help,
  registers: [register],
});

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
    private readonly deliveries: BackchannelDeliveryRepository,
    private readonly deliver: DeliverLogoutToken,
    @Inject(APP_CONFIG) private readonly config: BackchannelDispatcherConfig,
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
    const rows = await this.deliveries.claimDue(free, concurrencyPerClient, saturated, LEASE_SECONDS);

    for (const row of rows) {
      const clientCount = this.inFlightByClient.get(row.clientId) ?? 0;
      this.inFlight++;
      inFlightGauge.inc();
      this.inFlightByClient.set(row.clientId, clientCount + 1);
      const run = this.deliver
        .execute(row)
        .catch((err: Error) => this.log.error(`delivery ${row.id} failed unexpectedly: ${err.message}`))
        .finally(() => {
          this.inFlight--;
          inFlightGauge.dec();
          const n = (this.inFlightByClient.get(row.clientId) ?? 1) - 1;
          if (n <= 0) this.inFlightByClient.delete(row.clientId);
          else this.inFlightByClient.set(row.clientId, n);
          this.running.delete(run);
          // Refill in batches, not after every single delivery: a claim is a query.
          if (this.inFlight <= this.config.backchannel.concurrency / 2) this.kick();
        });
      this.running.add(run);
    }
  }
}
