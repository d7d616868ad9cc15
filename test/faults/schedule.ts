import { sleep } from '../../scripts/bench/processes';

/**
 * When each fault happens, in seconds of schedule time (0: the load starts). Outages go down at
 * `down` (SIGKILL, or an immediate stop) and `services.sh up` runs at `up`.
 */
export const SCHEDULE = {
  /** SIGKILL instance 1 of each consumer app, in order; each restarted by the test 1 s later. */
  consumers: [5, 10, 15, 20],
  /** SIGKILL gateway-2; restarted by the test 1 s later. */
  gateway: 25,
  oneBroker: { down: 30, up: 35 },
  allBrokers: { down: 55, up: 70 },
  postgres: { down: 100, up: 105 },
};

/** Every step's time, in the order the faults take them. */
export const STEP_TIMES = [
  ...SCHEDULE.consumers,
  SCHEDULE.gateway,
  SCHEDULE.oneBroker.down,
  SCHEDULE.oneBroker.up,
  SCHEDULE.allBrokers.down,
  SCHEDULE.allBrokers.up,
  SCHEDULE.postgres.down,
  SCHEDULE.postgres.up,
];

/**
 * The schedule's clock. It runs with real time, but it cannot pass the next step's time before
 * that step has begun: when a step runs late (`services.sh up` takes a minute on a busy machine),
 * schedule time waits for it, the later steps move by as much, and the load, which follows this
 * clock, keeps its pace relative to the faults. An outage also lasts its planned length from the
 * moment it really began.
 */
export class ScheduleClock {
  private slipMs = 0;
  private next = 0;

  constructor(
    private readonly startedAt: number,
    private readonly isStopping: () => boolean,
  ) {
    this.next = STEP_TIMES[0];
  }

  /** Schedule time now, in seconds. */
  now(): number {
    return Math.min((Date.now() - this.startedAt - this.slipMs) / 1000, this.next);
  }

  /** Seconds the schedule runs behind real time so far. */
  get slipSeconds(): number {
    return this.slipMs / 1000;
  }

  /**
   * Waits until step `index` of STEP_TIMES is due, and at least until `notBefore` (epoch ms);
   * fails at once when the run is stopping.
   */
  async step(index: number, notBefore = 0): Promise<void> {
    const seconds = STEP_TIMES[index];
    const due = Math.max(this.startedAt + seconds * 1000 + this.slipMs, notBefore);
    while (Date.now() < due) {
      if (this.isStopping()) throw new Error('the run is stopping');
      await sleep(Math.min(500, due - Date.now()));
    }
    if (this.isStopping()) throw new Error('the run is stopping');
    this.slipMs = Math.max(this.slipMs, Date.now() - this.startedAt - seconds * 1000);
    this.next = STEP_TIMES[index + 1] ?? Infinity;
  }

  /** When an outage that begins now may end: `up - down` seconds of its planned length later. */
  static endOf(outage: { down: number; up: number }): number {
    return Date.now() + (outage.up - outage.down) * 1000;
  }
}
