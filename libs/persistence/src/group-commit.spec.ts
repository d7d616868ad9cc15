import { GroupCommit } from './group-commit';

/** A commit function that records the groups it was given and answers each item doubled. */
function recorder(options: { delayMs?: number; refuse?: (item: number) => boolean } = {}) {
  const groups: number[][] = [];
  let running = 0;
  let mostAtOnce = 0;
  const commit = async (items: number[]): Promise<number[]> => {
    groups.push(items);
    running++;
    mostAtOnce = Math.max(mostAtOnce, running);
    try {
      await new Promise((r) => setTimeout(r, options.delayMs ?? 5));
      if (options.refuse && items.some(options.refuse)) throw Object.assign(new Error('violates a check'), { code: '23514' });
      return items.map((i) => i * 2);
    } finally {
      running--;
    }
  };
  return { commit, groups, mostAtOnce: () => mostAtOnce };
}

describe('GroupCommit', () => {
  it('commits the items submitted together in one call, each caller getting its own outcome', async () => {
    const r = recorder();
    const group = new GroupCommit(r.commit, 256, 1);
    const outcomes = await Promise.all([1, 2, 3, 4].map((i) => group.submit(i)));
    expect(outcomes).toEqual([2, 4, 6, 8]);
    expect(r.groups).toEqual([[1, 2, 3, 4]]);
  });

  it('puts what arrives during a commit into the next one, at most maxItems per commit', async () => {
    const r = recorder({ delayMs: 20 });
    const group = new GroupCommit(r.commit, 3, 1);
    const first = group.submit(1);
    await new Promise((res) => setTimeout(res, 5));
    const later = [2, 3, 4, 5, 6, 7].map((i) => group.submit(i));
    expect(await Promise.all([first, ...later])).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(r.groups).toEqual([[1], [2, 3, 4], [5, 6, 7]]);
  });

  it('runs at most `concurrency` commits at once and never commits an empty group', async () => {
    const r = recorder({ delayMs: 10 });
    const group = new GroupCommit(r.commit, 2, 2);
    const outcomes = await Promise.all(Array.from({ length: 9 }, (_, i) => group.submit(i)));
    expect(outcomes).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16]);
    expect(r.mostAtOnce()).toBe(2);
    expect(r.groups.every((g) => g.length > 0)).toBe(true);
    expect(r.groups.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('does not commit an empty group when a second commit finds the queue taken', async () => {
    const r = recorder({ delayMs: 1 });
    const group = new GroupCommit(r.commit, 256, 2);
    // Two submissions in one turn start two drains; the first takes both items.
    expect(await Promise.all([group.submit(1), group.submit(2)])).toEqual([2, 4]);
    expect(r.groups).toEqual([[1, 2]]);
  });

  it('commits the items one by one when a group is refused, so that only the refused item fails', async () => {
    const r = recorder({ refuse: (i) => i === 3 });
    const group = new GroupCommit(r.commit, 256, 1);
    const settled = await Promise.allSettled([1, 2, 3, 4].map((i) => group.submit(i)));
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : 'refused'))).toEqual([2, 4, 'refused', 8]);
    expect(r.groups).toEqual([[1, 2, 3, 4], [1], [2], [3], [4]]);
  });

  it('fails the whole group, without retrying it item by item, when the database is unreachable', async () => {
    const groups: number[][] = [];
    const group = new GroupCommit<number, number>(async (items) => {
      groups.push(items);
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    });
    const settled = await Promise.allSettled([1, 2, 3].map((i) => group.submit(i)));
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(groups).toEqual([[1, 2, 3]]);
  });
});
