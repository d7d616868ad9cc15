import { OutageReporter } from './outage-reporter';

describe('OutageReporter: one line when an outage starts, one when it ends', () => {
  it('logs the first failure and the recovery, nothing in between', () => {
    const lines: string[] = [];
    let now = 1_000;
    const reporter = new OutageReporter({ warn: (m) => lines.push(`warn ${m}`), log: (m) => lines.push(`log ${m}`) }, 'Kafka', () => now);
    reporter.recovered();
    expect(lines).toEqual([]);
    reporter.failed(new Error('connect ECONNREFUSED'));
    reporter.failed(new Error('connect ECONNREFUSED again'));
    reporter.failed(new Error('still down'));
    expect(reporter.isDown).toBe(true);
    expect(reporter.lastFailure).toBe('still down');
    now += 2_500;
    reporter.recovered();
    reporter.recovered();
    expect(lines).toEqual([
      'warn Kafka is unavailable (connect ECONNREFUSED); retrying until it is back',
      'log Kafka is back after 2.5 s and 3 failed attempt(s)',
    ]);
    expect(reporter.isDown).toBe(false);
    expect(reporter.lastFailure).toBeNull();
  });
});
