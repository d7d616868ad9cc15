import { replicationFor } from './topic-admin';

describe('replicationFor (SPEC §8: a cluster of three loses nothing when one broker dies)', () => {
  it.each([
    [1, 1, 1],
    [2, 1, 1],
    [3, 3, 2],
    [5, 3, 2],
  ])('%i broker(s): replication factor %i, min.insync.replicas %i', (brokers, replicationFactor, minInsyncReplicas) => {
    expect(replicationFor(brokers)).toEqual({ replicationFactor, minInsyncReplicas });
  });
});
