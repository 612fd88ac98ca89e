/**
 * The normaliser against ICU and against whole-string canonicalisation: grapheme
 * counts and boundaries agree with Intl.Segmenter, the chunked canonical form equals
 * canonicalising the whole text, and the compose-backward trigger covers every
 * canonical composition in the runtime's Unicode data.
 */
import fc from 'fast-check';
import { TextNormalizer } from '../../../shared/filter/normalizer';
import { canonical, combinesBackward, flagsOf, F_BEFORE } from '../../../shared/filter/unicode';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const icuBoundaries = (s: string): number[] => [...segmenter.segment(s)].map((x) => x.index);

/** Pieces chosen to hit every rule of UAX #29 and every NFKC length change we know. */
export const TRICKY = [
  'a', 'B', 'ｂ', 'Ａ', ' ', '\r', '\n', '\t', 'ß', 'ẞ', 's', 'S', 'İ', 'i', 'I', 'ı', 'ﬁ', 'f', '℡',
  '㍿', '株', '会', 'ｶ', 'ﾞ', 'ﾟ', 'ﾊ', 'カ', 'ガ', 'ㄱ', 'ㅏ', 'ㄳ', '가', 'ᄀ', 'ᅡ', 'ᆨ', '각',
  'e', '\u0301', '\u0308', 'é', 'Σ', 'σ', 'ς', '😀', '👍', '🏽', '\u200D', '👨', '👩', '\uFE0F',
  '🇯', '🇵', '🇫', '\u200B', '\u00AD', 'क', '\u094D', '\u093C', 'ष', 'ก', '\u0E31', '\u0E33',
  '\u0600', '\u0903', '坏', '蛋', 'ﷺ', '\uD83D', '\uDE00', '①', 'Ⅻ', '\u1100', '\u1161', '\u11A8',
];
const trickyText = fc.array(fc.constantFrom(...TRICKY), { maxLength: 24 }).map((a) => a.join(''));
const anyText = fc.oneof(trickyText, fc.string({ unit: 'binary', maxLength: 24 }), fc.string({ unit: 'grapheme', maxLength: 12 }));

describe('TextNormalizer', () => {
  const n = new TextNormalizer();

  it('counts the grapheme clusters Intl.Segmenter counts, and chunks start on its boundaries', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const t = n.normalize(text);
        const icu = icuBoundaries(text);
        expect(t.graphemes).toBe(icu.length);
        const boundaries = new Set(icu);
        for (let c = 0; c < t.chunkCount; c++) {
          expect(boundaries.has(t.chunkStart[c] as number)).toBe(true);
          if (c > 0) expect(t.chunkStart[c]).toBeGreaterThan(t.chunkStart[c - 1] as number);
        }
        if (text.length > 0) expect(t.chunkStart[0]).toBe(0);
      }),
      { numRuns: 600 },
    );
  });

  it('produces, chunk by chunk, exactly the canonical form of the whole text', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expect(n.canonicalize(text)).toBe(canonical(text));
      }),
      { numRuns: 600 },
    );
  });

  it('maps every canonical unit to a chunk, in order', () => {
    fc.assert(
      fc.property(trickyText, (text) => {
        const t = n.normalize(text);
        for (let u = 1; u < t.length; u++) expect(t.unitChunk[u]).toBeGreaterThanOrEqual(t.unitChunk[u - 1] as number);
      }),
    );
  });

  it.each([
    ['ﬁne', 'fine'],
    ['㍿', '株式会社'],
    ['ｶﾞｷﾞｸ', 'ガギク'],
    ['ﾊﾟﾝ', 'パン'],
    ['STRAẞE', 'strasse'],
    ['Straße', 'strasse'],
    ['İSTANBUL', 'istanbul'],
    ['ıstanbul', 'istanbul'],
    ['ΟΔΟΣ', 'οδοσ'],
    ['ㄱㅏ', '가'],
    ['Ｆｕｌｌ－ｗｉｄｔｈ', 'full-width'],
    ['e\u0301', 'é'],
    ['b\u200Ba\u00ADd', 'bad'],
    ['℡', 'tel'],
    ['①Ⅻ', '1xii'],
  ])('canonicalises %j as %j', (text, expected) => {
    expect(n.canonicalize(text)).toBe(expected);
  });

  it('is idempotent', () => {
    fc.assert(fc.property(anyText, (text) => canonical(canonical(text)) === canonical(text)), { numRuns: 1000 });
  });
});

describe('unicode tables', () => {
  it('triggers re-normalisation for every code point that composes after a starter', () => {
    // Any character that appears after the first position of a canonical
    // decomposition can compose with what precedes it (or reorder with it).
    const missed: string[] = [];
    for (let cp = 0x80; cp < 0x30000; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const d = [...String.fromCodePoint(cp).normalize('NFD')];
      for (const ch of d.slice(1)) {
        const c = ch.codePointAt(0) as number;
        if (!combinesBackward(c)) missed.push(c.toString(16));
      }
    }
    expect([...new Set(missed)]).toEqual([]);
  });

  it('marks combining marks and emoji modifiers as joining the previous character', () => {
    for (const ch of ['\u0301', '\u094D', '\u0E31', '\u0903', '🏽', '\u200D', '\uFE0F', '\uFF9E']) {
      expect(flagsOf(ch.codePointAt(0) as number) & F_BEFORE).toBe(F_BEFORE);
    }
  });
});
