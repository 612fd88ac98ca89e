/**
 * WordMatcher against a naive matcher that shares none of its machinery: ICU
 * segmentation, canonical form of the whole text, `indexOf` for every word at every
 * position, and segments found by trying every cluster boundary (a boundary is
 * "clean" when canonicalising the two sides apart gives the whole text's canonical
 * form). Plus the multi-language cases and the length-preservation property.
 */
import fc from 'fast-check';
import { WordMatcher } from '../../../shared/filter/matcher';
import { canonical } from '../../../shared/filter/unicode';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const clustersOf = (s: string): string[] => [...segmenter.segment(s)].map((x) => x.segment);

/** Masks the text the slow, obvious way. */
function naiveMask(text: string, words: readonly string[]): { text: string; count: number } {
  const clusters = clustersOf(text);
  const whole = canonical(text);
  // Clean boundaries split the text into segments with known canonical offsets.
  const segs: { from: number; to: number; cs: number; ce: number }[] = [];
  let segFrom = 0;
  let segCs = 0;
  for (let k = 1; k <= clusters.length; k++) {
    const prefix = canonical(clusters.slice(0, k).join(''));
    const clean = k === clusters.length || prefix + canonical(clusters.slice(k).join('')) === whole;
    if (clean) {
      segs.push({ from: segFrom, to: k, cs: segCs, ce: prefix.length });
      segFrom = k;
      segCs = prefix.length;
    }
  }
  const masked = new Array<boolean>(clusters.length).fill(false);
  const ends = new Set<number>();
  for (const w of new Set(words.map(canonical))) {
    if (w === '') continue;
    for (let at = whole.indexOf(w); at >= 0; at = whole.indexOf(w, at + 1)) {
      const s = at;
      const e = at + w.length;
      ends.add(e);
      for (const g of segs) {
        const overlaps = g.cs < g.ce ? g.cs < e && g.ce > s : s < g.cs && g.cs < e;
        if (overlaps) for (let c = g.from; c < g.to; c++) masked[c] = true;
      }
    }
  }
  return { text: clusters.map((c, i) => (masked[i] ? '*' : c)).join(''), count: ends.size };
}

const PIECES = [
  'a', 'b', 'A', 'Ｂ', 'ab', 'ß', 'ss', 'ẞ', 'S', 'İ', 'i', 'ı', 'ﬁ', 'f', '㍿', '株式', '会社', 'ｶ', 'ﾞ', 'カ', 'ガ',
  'ㄱ', 'ㅏ', '가', 'e', '\u0301', 'é', 'Σ', 'ς', '😀', '👍', '🏽', '\u200D', '👨', '🇯', '🇵', '坏', '蛋', '\u200B', ' ', '\n',
  'ﾊﾟ', 'パ', 'ｷ', 'キ',
];
/** Words never contain line breaks (they are lines of a file). */
const WORD_PIECES = PIECES.filter((p) => p !== '\n');
const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 16 }).map((a) => a.join(''));
const word = fc.array(fc.constantFrom(...WORD_PIECES), { minLength: 1, maxLength: 3 }).map((a) => a.join(''));
const words = fc.array(word, { minLength: 1, maxLength: 6 });

describe('WordMatcher', () => {
  it('masks exactly what the naive matcher masks', () => {
    fc.assert(
      fc.property(words, text, (ws, t) => {
        const expected = naiveMask(t, ws);
        const got = WordMatcher.build(ws).mask(t);
        expect(got.text).toBe(expected.text);
        expect(got.count).toBe(expected.count);
      }),
      { numRuns: 1500 },
    );
  });

  it('finds a match exactly when the naive matcher does, and its span covers it', () => {
    fc.assert(
      fc.property(words, text, (ws, t) => {
        const m = WordMatcher.build(ws);
        const hit = m.first(t);
        const any = naiveMask(t, ws).count > 0;
        expect(hit !== undefined).toBe(any);
        if (hit) expect(canonical(t.slice(hit.start, hit.end))).toContain(canonical(hit.word));
      }),
      { numRuns: 800 },
    );
  });

  it('keeps the grapheme count, and never leaves a lone surrogate, when masking', () => {
    fc.assert(
      fc.property(words, fc.oneof(text, fc.string({ unit: 'grapheme', maxLength: 30 })), (ws, t) => {
        const masked = WordMatcher.build(ws).mask(t).text;
        expect(clustersOf(masked).length).toBe(clustersOf(t).length);
        expect(LONE_SURROGATE.test(masked)).toBe(LONE_SURROGATE.test(t));
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    // [words, text, masked]
    [['坏蛋'], '你是坏蛋吗', '你是**吗'],
    [['法轮'], '法輪', '法輪'], // traditional vs simplified are different words: list both
    [['ばか'], 'おまえはバカだ', 'おまえはバカだ'], // hiragana and katakana are different words
    [['バカ'], 'ﾊﾞｶやろう', '**やろう'], // half-width katakana + dakuten
    [['バカ'], 'バカやろう', '**やろう'],
    [['株式会社'], '㍿テスト', '*テスト'], // one character that expands to four
    [['fine'], 'ﬁne print', '*** print'], // ligature ﬁ → fi
    [['straße'], 'STRASSE und Straße und STRAẞE', '******* und ****** und ******'],
    [['istanbul'], 'İSTANBUL / ISTANBUL / ıstanbul', '******** / ******** / ********'],
    [['σοφος'], 'ΣΟΦΟΣ', '*****'],
    [['badword'], 'ＢＡＤＷＯＲＤ!', '*******!'],
    [['bad'], 'b\u200Bad', '****'], // zero-width space inside is not an escape
    [['bad'], 'a bad day', 'a *** day'],
    [['👍'], 'ok 👍🏽👍 fine', 'ok ** fine'], // skin-tone variant is the same emoji, one cluster each
    [['🍆'], '🍆🍆', '**'],
    [['👨‍👩‍👧'], 'family 👨‍👩‍👧!', 'family *!'], // a ZWJ sequence is one character
    [['가'], 'ㄱㅏ', '**'], // compatibility jamo compose
    [['café'], 'cafe\u0301 ok', '**** ok'], // decomposed é: five code points, four graphemes
    [['abc', 'bcd'], 'xabcdx', 'x****x'],
    [['a'], '🇯🇵a', '🇯🇵*'],
  ])('%j masks %j as %j', (list, input, expected) => {
    expect(WordMatcher.build(list).mask(input).text).toBe(expected);
  });

  it('reports the words as listed and the original offsets', () => {
    const r = WordMatcher.build(['ＢＡＤ', 'bad', '坏蛋']).mask('Bad 坏蛋');
    expect(r.matches).toEqual([
      { word: 'ＢＡＤ', start: 0, end: 3 },
      { word: '坏蛋', start: 4, end: 6 },
    ]);
    expect(r.count).toBe(2);
  });

  it('counts every occurrence but describes at most `limit`', () => {
    const r = WordMatcher.build(['x']).scan('x'.repeat(100), 5);
    expect(r.count).toBe(100);
    expect(r.matches).toHaveLength(5);
  });

  it('drops words that are empty once canonical (only ignorables)', () => {
    const m = WordMatcher.build(['\u200B', '\u00AD', 'ok', 'OK', 'ｏｋ']);
    expect(m.size).toBe(1);
    expect(m.mask('\u200B').text).toBe('\u200B');
  });

  it('handles a 10,000-word list', () => {
    const list = Array.from({ length: 10_000 }, (_, i) => `w${i.toString(36)}x`);
    const m = WordMatcher.build(list);
    expect(m.size).toBe(10_000);
    expect(m.mask('say W2SX and wzzzzx').text).toBe('say **** and wzzzzx');
  });
});
