/**
 * Our partitioner must send every key where kafkajs's default (Java-compatible)
 * partitioner sends it: other producers of the same topics rely on per-key partitions.
 */
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { javaCompatiblePartitioner } from '../../../shared/bus/partitioner';

const meta = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0, offlineReplicas: [] }));

describe('javaCompatiblePartitioner', () => {
  it('gives every key the partition kafkajs gives it', () => {
    const ours = javaCompatiblePartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const keys: (string | Buffer)[] = ['', 'a', 'ab', 'abc', 'abcd', 'user-42', 'ünïcødé-用户', '😀x'];
    for (let i = 0; i < 1500; i++) {
      keys.push(`u${i}-${randomBytes(i % 13).toString('hex')}`);
      keys.push(randomBytes(i % 23));
    }
    const differing: unknown[] = [];
    for (const n of [1, 3, 4, 8, 16, 100]) {
      for (const key of keys) {
        const message = { key, value: null };
        const a = ours({ topic: 't', partitionMetadata: meta(n), message });
        const b = theirs({ topic: 't', partitionMetadata: meta(n), message });
        if (a !== b) differing.push({ key, n, a, b });
      }
    }
    expect(differing).toEqual([]);
  });

  it('keeps an explicit partition and spreads keyless records over partitions with a leader', () => {
    const p = javaCompatiblePartitioner();
    expect(p({ topic: 't', partitionMetadata: meta(4), message: { key: 'k', value: null, partition: 2 } })).toBe(2);
    const partitions = meta(4).map((m) => (m.partitionId === 1 ? { ...m, leader: -1 } : m));
    const seen = new Set(Array.from({ length: 30 }, () => p({ topic: 't', partitionMetadata: partitions, message: { value: null } })));
    expect([...seen].sort()).toEqual([0, 2, 3]);
  });
});
