/**
 * KeyedBatcher: an idle batcher reads at once; asks made while every slot is busy
 * leave together; asks for one key share a read; errors and missing keys reach exactly
 * the callers of that batch. A property run checks every caller gets its own key's value.
 */
import fc from 'fast-check';
import { KeyedBatcher } from '../../../shared/batching/keyed-batcher';

/** A loader whose batches the test releases by hand. */
function manualLoader() {
  const calls: { keys: readonly string[]; release(fail?: Error): void }[] = [];
  const load = (keys: readonly string[]) =>
    new Promise<Map<string, string>>((resolve, reject) => {
      calls.push({ keys, release: (fail) => (fail ? reject(fail) : resolve(new Map(keys.map((k) => [k, `v:${k}`])))) });
    });
  return { calls, load };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('KeyedBatcher', () => {
  it('reads at once when idle, batches what arrives while busy, shares a key', async () => {
    const { calls, load } = manualLoader();
    const b = new KeyedBatcher(load, { maxInFlight: 1, maxBatch: 10 });
    const first = b.load('a');
    await tick();
    expect(calls.map((c) => c.keys)).toEqual([['a']]);
    const later = [b.load('b'), b.load('c'), b.load('b')];
    await tick();
    expect(calls).toHaveLength(1);
    calls[0]?.release();
    expect(await first).toBe('v:a');
    await tick();
    expect(calls[1]?.keys).toEqual(['b', 'c']);
    calls[1]?.release();
    expect(await Promise.all(later)).toEqual(['v:b', 'v:c', 'v:b']);
    expect(b.stats()).toMatchObject({ batches: 2, keys: 3, queued: 0, inflight: 0 });
  });

  it('caps a batch at maxBatch keys and runs up to maxInFlight batches', async () => {
    const { calls, load } = manualLoader();
    const b = new KeyedBatcher(load, { maxInFlight: 2, maxBatch: 2 });
    const all = ['a', 'b', 'c', 'd', 'e'].map((k) => b.load(k));
    await tick();
    // Two slots: 'a' and 'b' leave at once; the rest waits for a slot.
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b']]);
    calls[0]?.release();
    await tick();
    expect(calls[2]?.keys).toEqual(['c', 'd']);
    calls[1]?.release();
    await tick();
    expect(calls[3]?.keys).toEqual(['e']);
    calls[2]?.release();
    calls[3]?.release();
    expect(await Promise.all(all)).toEqual(['v:a', 'v:b', 'v:c', 'v:d', 'v:e']);
  });

  it('rejects the callers of a failed batch only, and keeps going', async () => {
    const { calls, load } = manualLoader();
    const b = new KeyedBatcher(load, { maxInFlight: 1 });
    const a = b.load('a');
    const bc = [b.load('b'), b.load('c')];
    await tick();
    calls[0]?.release(new Error('db down'));
    await expect(a).rejects.toThrow('db down');
    await tick();
    calls[1]?.release();
    expect(await Promise.all(bc)).toEqual(['v:b', 'v:c']);
  });

  it('rejects a key the loader left out, and a loader that throws synchronously', async () => {
    const partial = new KeyedBatcher<string, number>(async (keys) => new Map(keys.filter((k) => k !== 'x').map((k) => [k, 1])));
    await expect(partial.load('x')).rejects.toThrow('no value for x');
    const throwing = new KeyedBatcher<string, number>(() => {
      throw new Error('boom');
    });
    await expect(throwing.load('y')).rejects.toThrow('boom');
  });

  it('gives every caller its own key under random interleavings', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.nat(3)), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        async (asks, maxInFlight, maxBatch) => {
          const b = new KeyedBatcher<string, string>(
            async (keys) => {
              expect(new Set(keys).size).toBe(keys.length);
              expect(keys.length).toBeLessThanOrEqual(maxBatch);
              await tick();
              return new Map(keys.map((k) => [k, `v:${k}`]));
            },
            { maxInFlight, maxBatch },
          );
          const results: Promise<void>[] = [];
          for (const [key, pause] of asks) {
            for (let i = 0; i < pause; i++) await Promise.resolve();
            results.push(b.load(key).then((v) => expect(v).toBe(`v:${key}`)));
          }
          await Promise.all(results);
          expect(b.stats().inflight).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
