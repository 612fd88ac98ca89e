/**
 * The Unicode facts the filter stands on: the canonical form words and texts are
 * compared in (NFKC + full case folding + ignorables removed), and per-code-point
 * flags that tell the normaliser where a grapheme-cluster boundary is certain without
 * asking ICU. `Intl.Segmenter` is exact but costs microseconds per character (and
 * grows with the string on Node 20), so it is only consulted for the short runs where
 * a boundary is in doubt; everything here is a pure, memoised function of the code
 * point, so the module-level tables are caches, not state.
 */

/** Default_Ignorable_Code_Point: ZWSP, ZWJ, soft hyphen, variation selectors… */
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;
const NEEDS_FIXUP = /[\u03c2\u0307]/;

function foldOnce(s: string): string {
  // NFKC first: compatibility forms can expand to capitals (℡ → TEL) that must fold.
  let t = s.replace(IGNORABLE, '').normalize('NFKC');
  // lower→upper→lower is full case folding for our purpose: ß/ẞ → ss, ſ → s, ς → σ
  // (once the final-sigma rule of toLowerCase is undone below). Dotless ı also meets
  // i: deliberately wider than Unicode's default folding, since a filter wants it.
  t = t.toLowerCase().toUpperCase().toLowerCase();
  if (NEEDS_FIXUP.test(t)) t = t.replace(/\u03c2/g, '\u03c3').replace(/i\u0307/g, 'i');
  return t.normalize('NFKC');
}

/**
 * The canonical form of a string: NFKC, case-folded, default-ignorables removed,
 * Turkish İ and final sigma folded. Iterated to a fixed point so it is idempotent.
 */
export function canonical(s: string): string {
  let t = foldOnce(s);
  for (let i = 0; i < 3; i++) {
    const next = foldOnce(t);
    if (next === t) return t;
    t = next;
  }
  return t;
}

/** Boundary after this code point may be "no break" (Prepend, CR, ZWJ, Linker). */
export const F_AFTER = 1;
/** Boundary before this code point may be "no break" (Extend, ZWJ, SpacingMark). */
export const F_BEFORE = 2;
/** Regional indicator: pairs into flags. */
export const F_RI = 4;
/** An Indic conjunct linker (virama): joins a following consonant (UAX #29 GB9c). */
export const F_LINKER = 8;
/** Hangul jamo or syllable: joins are decided pairwise by hangulJoins(). */
export const F_HANGUL = 16;
const F_KNOWN = 0x80;

/** Memo of flagsOf: 0 = not computed yet, else flags | 0x80. */
export const FLAGS = new Uint8Array(0x110000);
// Made at first use: creating a Segmenter loads ICU's break-iterator data, 10-30 ms of a
// cold start, and ASCII text (most messages, and every empty word list) never asks it.
let probeInstance: Intl.Segmenter | undefined;
const probe = (): Intl.Segmenter => (probeInstance ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' }));

function clusters(s: string): number {
  let n = 0;
  for (const _ of probe().segment(s)) n++;
  return n;
}

function computeFlags(cp: number): number {
  if (cp === 0x0d) return F_AFTER; // CR LF
  if (cp === 0x200d) return F_AFTER | F_BEFORE;
  if (cp >= 0x1f1e6 && cp <= 0x1f1ff) return F_RI;
  if (cp < 0x80 || (cp >= 0xd800 && cp <= 0xdfff)) return 0; // ASCII, lone surrogates
  if (isHangul(cp)) return F_HANGUL;
  const c = String.fromCodePoint(cp);
  let f = 0;
  // Asking ICU itself keeps the flags exact for the runtime's Unicode version
  // (Prepend, SpacingMark and InCB lists change between versions).
  if (clusters(`a${c}`) === 1) f |= F_BEFORE;
  if (clusters(`${c}a`) === 1) f |= F_AFTER;
  if (f & F_BEFORE && clusters(`\u0915${c}\u0915`) === 1) f |= F_LINKER | F_AFTER;
  return f;
}

/** Memoised grapheme-boundary flags of a code point (with bit 0x80 set: known). */
export function flagsOf(cp: number): number {
  const f = FLAGS[cp] as number;
  if (f !== 0) return f;
  const computed = computeFlags(cp) | F_KNOWN;
  FLAGS[cp] = computed;
  return computed;
}

const isHangul = (cp: number): boolean =>
  (cp >= 0x1100 && cp <= 0x11ff) ||
  (cp >= 0xa960 && cp <= 0xa97f) ||
  (cp >= 0xac00 && cp <= 0xd7a3) ||
  (cp >= 0xd7b0 && cp <= 0xd7ff);

const HANGUL_L = 1;
const HANGUL_V = 2;
const HANGUL_T = 3;
const HANGUL_LV = 4;
const HANGUL_LVT = 5;

function hangulType(cp: number): number {
  if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0xa960 && cp <= 0xa97c)) return HANGUL_L;
  if ((cp >= 0x1160 && cp <= 0x11a7) || (cp >= 0xd7b0 && cp <= 0xd7c6)) return HANGUL_V;
  if ((cp >= 0x11a8 && cp <= 0x11ff) || (cp >= 0xd7cb && cp <= 0xd7fb)) return HANGUL_T;
  if (cp >= 0xac00 && cp <= 0xd7a3) return (cp - 0xac00) % 28 === 0 ? HANGUL_LV : HANGUL_LVT;
  return 0;
}

/** UAX #29 GB6–GB8: whether two Hangul code points stay in one cluster. */
export function hangulJoins(a: number, b: number): boolean {
  if (a < 0x1100 || b < 0x1100) return false;
  const ta = hangulType(a);
  if (ta === 0) return false;
  const tb = hangulType(b);
  if (tb === 0) return false;
  if (ta === HANGUL_L) return tb !== HANGUL_T;
  if (ta === HANGUL_LV || ta === HANGUL_V) return tb === HANGUL_V || tb === HANGUL_T;
  return tb === HANGUL_T; // LVT, T
}

/**
 * Whether a normalised cluster starting with `cp` can compose or reorder with what
 * precedes it (a combining mark, a Hangul vowel or trailing consonant), so the
 * normaliser must re-normalise it together with the previous chunk.
 */
export function combinesBackward(cp: number): boolean {
  if (cp < 0x300) return false;
  const known = backwardTable[cp] as number;
  if (known !== 0) return known === 2;
  const yes =
    (cp >= 0x1160 && cp <= 0x11ff) ||
    (cp >= 0xd7b0 && cp <= 0xd7ff) ||
    // Kirat Rai (Unicode 16) vowel signs are letters (gc=Lo) that still compose.
    (cp >= 0x16d63 && cp <= 0x16d6a) ||
    MARK.test(String.fromCodePoint(cp));
  backwardTable[cp] = yes ? 2 : 1;
  return yes;
}
const backwardTable = new Uint8Array(0x110000);
const MARK = /^\p{M}/u;

/** Splits a short run with ICU; the normaliser caches the answers. */
export function segmentRun(run: string): number[] {
  const lengths: number[] = [];
  for (const s of probe().segment(run)) lengths.push(s.segment.length);
  return lengths;
}
