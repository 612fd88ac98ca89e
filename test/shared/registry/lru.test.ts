import fc from 'fast-check';
import { LruMap } from '../../../shared/registry/lru';

type Op = { op: 'get' | 'set' | 'delete'; key: number; value: number };

describe('LruMap', () => {
  it('behaves like a list ordered by last use, cut at capacity', () => {
    const op = fc.record({ op: fc.constantFrom('get', 'set', 'delete'), key: fc.nat(6), value: fc.nat() }) as fc.Arbitrary<Op>;
    fc.assert(
      fc.property(fc.nat(5), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
        const lru = new LruMap<number, number>(capacity);
        let model: Array<[number, number]> = []; // least recently used first
        for (const { op: kind, key, value } of ops) {
          const at = model.findIndex(([k]) => k === key);
          if (kind === 'get') {
            const expected = at >= 0 ? model[at]![1] : undefined;
            expect(lru.get(key)).toBe(expected);
            if (at >= 0) model = [...model.filter(([k]) => k !== key), model[at]!];
          } else if (kind === 'set') {
            if (capacity === 0) continue;
            model = [...model.filter(([k]) => k !== key), [key, value]];
            if (model.length > capacity) model = model.slice(1);
            lru.set(key, value);
          } else {
            expect(lru.delete(key)).toBe(at >= 0);
            model = model.filter(([k]) => k !== key);
          }
          expect([...lru.keys()]).toEqual(model.map(([k]) => k));
          expect(lru.size).toBeLessThanOrEqual(capacity);
        }
      }),
    );
  });

  it('peek does not refresh recency', () => {
    const lru = new LruMap<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.peek('a')).toBe(1);
    lru.set('c', 3);
    expect(lru.has('a')).toBe(false);
    expect([...lru.keys()]).toEqual(['b', 'c']);
  });
});
