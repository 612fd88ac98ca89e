/**
 * OffsetCommits (pure): while a request is in flight the commits asked for meanwhile
 * leave together with each partition's latest offset; a failed request fails exactly
 * the commits it carried.
 */
import { OffsetCommits, type TopicOffsets } from '../../../shared/bus/offset-commits';

function recorder() {
  const sent: TopicOffsets[] = [];
  const pending: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  const send = (o: TopicOffsets) => {
    sent.push(o);
    return new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
  };
  return { sent, pending, send };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('OffsetCommits', () => {
  it('sends the first commit at once and coalesces the next ones, keeping the highest offset per partition', async () => {
    const c = new OffsetCommits();
    const r = recorder();
    const first = c.commit('t', 0, '10', r.send);
    const later = [c.commit('t', 1, '5', r.send), c.commit('t', 0, '30', r.send), c.commit('t', 0, '20', r.send), c.commit('u', 0, '7', r.send)];
    expect(r.sent).toEqual([{ topics: [{ topic: 't', partitions: [{ partition: 0, offset: '10' }] }] }]);
    r.pending[0]?.resolve();
    await first;
    await flush();
    expect(r.sent[1]).toEqual({
      topics: [
        { topic: 't', partitions: [{ partition: 1, offset: '5' }, { partition: 0, offset: '30' }] },
        { topic: 'u', partitions: [{ partition: 0, offset: '7' }] },
      ],
    });
    r.pending[1]?.resolve();
    await Promise.all(later);
    expect(c.requests).toBe(2);
  });

  it('fails the commits of a failed request only, and goes on with the next', async () => {
    const c = new OffsetCommits();
    const r = recorder();
    const a = c.commit('t', 0, '1', r.send);
    const b = c.commit('t', 0, '2', r.send);
    r.pending[0]?.reject(new Error('REBALANCE_IN_PROGRESS'));
    await expect(a).rejects.toThrow('REBALANCE_IN_PROGRESS');
    await flush();
    r.pending[1]?.resolve();
    await expect(b).resolves.toBeUndefined();
    const c2 = c.commit('t', 0, '3', r.send);
    expect(r.sent).toHaveLength(3);
    r.pending[2]?.resolve();
    await c2;
  });
});
