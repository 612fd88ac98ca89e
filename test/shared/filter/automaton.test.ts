/**
 * The automaton alone against brute force on raw code units: for every end position,
 * the longest listed word ending there. Alphabets small (deep failure chains) and
 * large (a sparse double array).
 */
import fc from 'fast-check';
import { Automaton, type AutomatonHit } from '../../../shared/filter/automaton';

function brute(words: readonly string[], text: string): AutomatonHit[] {
  const hits: AutomatonHit[] = [];
  for (let end = 1; end <= text.length; end++) {
    let best = -1;
    words.forEach((w, i) => {
      if (w.length <= end && text.startsWith(w, end - w.length) && (best < 0 || w.length > (words[best] as string).length)) best = i;
    });
    if (best >= 0) hits.push({ start: end - (words[best] as string).length, end, word: best });
  }
  return hits;
}

const scan = (a: Automaton, text: string): AutomatonHit[] => {
  const units = Uint16Array.from(text, (ch) => ch.charCodeAt(0));
  const hits: AutomatonHit[] = [];
  a.scan(units, units.length, (h) => (hits.push(h), true));
  return hits;
};

const unitsOf = (alphabet: string) => fc.array(fc.constantFrom(...alphabet), { maxLength: 40 }).map((a) => a.join(''));
const wordsOf = (alphabet: string) =>
  fc.uniqueArray(fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 6 }).map((a) => a.join('')), { minLength: 1, maxLength: 30 });

describe('Automaton', () => {
  it.each([
    ['ab', 'ab'],
    ['abc', 'abcd'],
    ['CJK-ish wide alphabet', Array.from({ length: 300 }, (_, i) => String.fromCharCode(0x4e00 + i * 37)).join('')],
  ])('finds the longest word at every end position (%s)', (_name, alphabet) => {
    fc.assert(
      fc.property(wordsOf(alphabet), unitsOf(alphabet + 'xyz'), (words, text) => {
        expect(scan(new Automaton(words), text)).toEqual(brute(words, text));
      }),
      { numRuns: 400 },
    );
  });

  it('stops when the callback says so', () => {
    const a = new Automaton(['a']);
    let n = 0;
    a.scan(Uint16Array.from('aaaa', (c) => c.charCodeAt(0)), 4, () => ++n < 2);
    expect(n).toBe(2);
  });

  it('handles every code unit value and an empty list', () => {
    const all = Array.from({ length: 65536 }, (_, i) => String.fromCharCode(i));
    const a = new Automaton(all.filter((_, i) => i % 2 === 0));
    expect(scan(a, '\u0000\u0001\uffff\ufffe').map((h) => h.start)).toEqual([0, 3]);
    expect(scan(new Automaton([]), 'abc')).toEqual([]);
  });
});
