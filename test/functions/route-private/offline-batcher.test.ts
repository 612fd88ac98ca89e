/**
 * LoadBatcher over a send it controls: an idle batcher sends at once; records arriving
 * during a send leave together in the next one; a second send runs beside the first
 * only once laneMinBatch records wait; each record settles with its own batch.
 */
import { LoadBatcher } from '../../../functions/route-private/offline-batcher';

class ManualSend {
  readonly calls: { records: number[]; timeoutMs: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  readonly send = (records: number[], timeoutMs: number): Promise<void> =>
    new Promise<void>((resolve, reject) => this.calls.push({ records, timeoutMs, resolve, reject }));
}

const tick = () => new Promise((r) => setImmediate(r));

describe('LoadBatcher', () => {
  it('sends the first record at once and the ones that arrive meanwhile together', async () => {
    const s = new ManualSend();
    const b = new LoadBatcher<number>(s.send, 2, 500, 4);
    const first = b.publish(1, 100);
    expect(s.calls.map((c) => c.records)).toEqual([[1]]);
    const rest = [b.publish(2, 100), b.publish(3, 300), b.publish(4, 200)];
    expect(s.calls).toHaveLength(1); // 3 waiting < laneMinBatch 4: no second lane
    s.calls[0]?.resolve();
    await first;
    await tick();
    expect(s.calls.map((c) => c.records)).toEqual([[1], [2, 3, 4]]);
    expect(s.calls[1]?.timeoutMs).toBe(300); // the most patient record's
    s.calls[1]?.resolve();
    await Promise.all(rest);
    expect(b.stats()).toEqual({ sends: 2, records: 4, queued: 0, inflight: 0 });
  });

  it('opens a second lane once laneMinBatch records wait, never more than maxInFlight', async () => {
    const s = new ManualSend();
    const b = new LoadBatcher<number>(s.send, 2, 500, 3);
    const all = Array.from({ length: 10 }, (_, i) => b.publish(i, 100));
    // 0 went alone; 1-3 reached the lane threshold and left as the second lane; 4-9 wait.
    expect(s.calls.map((c) => c.records)).toEqual([[0], [1, 2, 3]]);
    s.calls[0]?.resolve();
    await tick();
    expect(s.calls.map((c) => c.records)).toEqual([[0], [1, 2, 3], [4, 5, 6, 7, 8, 9]]);
    for (const c of s.calls.slice(1)) c.resolve();
    await Promise.all(all);
  });

  it('a failed send rejects exactly its own records', async () => {
    const s = new ManualSend();
    const b = new LoadBatcher<number>(s.send, 1, 500, 64);
    const one = b.publish(1, 100);
    const two = b.publish(2, 100);
    s.calls[0]?.reject(new Error('broker down'));
    await expect(one).rejects.toThrow('broker down');
    await tick();
    s.calls[1]?.resolve();
    await expect(two).resolves.toBeUndefined();
  });

  it('keeps batches within maxBatch', async () => {
    const s = new ManualSend();
    const b = new LoadBatcher<number>(s.send, 1, 3, 64);
    const all = Array.from({ length: 7 }, (_, i) => b.publish(i, 100));
    s.calls[0]?.resolve();
    await tick();
    s.calls[1]?.resolve();
    await tick();
    s.calls[2]?.resolve();
    await Promise.all(all);
    expect(s.calls.map((c) => c.records)).toEqual([[0], [1, 2, 3], [4, 5, 6]]);
  });
});
