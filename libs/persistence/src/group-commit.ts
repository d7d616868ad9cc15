import { isTransient } from '@ulo/resilience';

interface Waiting<I, O> {
  item: I;
  resolve: (outcome: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: callers submit one item each and wait for its own outcome, while the items that
 * arrive together are written by one `commit` of them all. No timer: the first item is committed
 * at the next turn of the event loop, and whatever arrives while a commit runs goes into the next
 * one (at most `maxItems`), so a quiet service answers at once and a busy one in large batches.
 *
 * `commit` returns one outcome per item, in order. If it fails for a reason other than an outage,
 * the items are committed again one by one, so that one item the database refuses cannot fail
 * the others; an outage fails them all (their callers answer 503 and are retried).
 */
export class GroupCommit<I, O> {
  private waiting: Waiting<I, O>[] = [];
  private draining = 0;

  /**
   * `concurrency`: commits that may run at once. One makes the largest groups; more keep a
   * database whose round trips are slow under load busy while a commit waits for its answers.
   */
  constructor(
    private readonly commit: (items: I[]) => Promise<O[]>,
    private readonly maxItems = 256,
    private readonly concurrency = 1,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.draining < this.concurrency) {
        this.draining++;
        void this.drain().finally(() => this.draining--);
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      // One turn of the event loop, so that the requests arriving together join this commit.
      await new Promise((r) => setImmediate(r));
      // Another commit running at once may have taken them all meanwhile.
      if (this.waiting.length === 0) break;
      const group = this.waiting.splice(0, this.maxItems);
      try {
        const outcomes = await this.commit(group.map((w) => w.item));
        group.forEach((w, i) => w.resolve(outcomes[i]));
      } catch (err) {
        if (group.length === 1 || isTransient(err)) {
          group.forEach((w) => w.reject(err));
          continue;
        }
        for (const w of group) {
          await this.commit([w.item]).then(([outcome]) => w.resolve(outcome), w.reject);
        }
      }
    }
  }
}
