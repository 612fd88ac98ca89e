/**
 * GroupCommit (pure): what is submitted while a group is in flight leaves as the next
 * group, within the weight limit, at most `concurrency` groups at a time; answers go
 * back in order; a failed group fails each of its inputs.
 */
import fc from 'fast-check';
import { GroupCommit } from '../../../functions/persist-offline/group-commit';

const tick = () => new Promise((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('groups what waits while a group is in flight, answering each input its own result', async () => {
    const groups: number[][] = [];
    const gates: (() => void)[] = [];
    const gc = new GroupCommit<number, number>(async (xs) => {
      groups.push(xs);
      await new Promise<void>((r) => gates.push(r));
      return xs.map((x) => x * 10);
    });
    const first = [gc.submit(1), gc.submit(2)];
    await tick();
    const second = [gc.submit(3), gc.submit(4), gc.submit(5)];
    await tick();
    expect(groups).toEqual([[1, 2]]);
    gates[0]?.();
    expect(await Promise.all(first)).toEqual([10, 20]);
    await tick();
    expect(groups).toEqual([[1, 2], [3, 4, 5]]);
    gates[1]?.();
    expect(await Promise.all(second)).toEqual([30, 40, 50]);
    expect(gc.stats()).toEqual({ groups: 2, inputs: 5 });
  });

  it('fails every input of a failed group, and runs the next group anyway', async () => {
    let fail = true;
    const gc = new GroupCommit<string, string>(async (xs) => {
      if (fail) {
        fail = false;
        throw new Error('down');
      }
      return xs;
    });
    const a = gc.submit('a');
    const b = gc.submit('b');
    await expect(a).rejects.toThrow('down');
    await expect(b).rejects.toThrow('down');
    await expect(gc.submit('c')).resolves.toBe('c');
  });

  it('keeps groups within the weight limit (at least one input each) and at most `concurrency` in flight', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 3 }),
        async (weights, concurrency) => {
          let inFlight = 0;
          let most = 0;
          const groups: number[][] = [];
          const gc = new GroupCommit<number, number>(
            async (xs) => {
              most = Math.max(most, ++inFlight);
              groups.push(xs);
              await tick();
              inFlight--;
              return xs;
            },
            { concurrency, maxWeight: 60, weight: (x) => x },
          );
          const out = await Promise.all(weights.map((w) => gc.submit(w)));
          expect(out).toEqual(weights);
          expect(groups.flat()).toEqual(weights);
          for (const g of groups) expect(g.length === 1 || g.reduce((a, b) => a + b, 0) <= 60).toBe(true);
          expect(most).toBeLessThanOrEqual(concurrency);
        },
      ),
      { numRuns: 50 },
    );
  });
});
