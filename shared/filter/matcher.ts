/**
 * A compiled word list: finds words in a text case-, width- and
 * normalisation-insensitively and masks them, one `*` per grapheme cluster of the
 * original text, so the message keeps its user-visible length and never gets a split
 * surrogate pair or a half of a composed character.
 *
 * Immutable once built: a reload builds a new one and swaps the reference.
 */
import { Automaton } from './automaton';
import { TextNormalizer, chunkEnd, type NormalizedText } from './normalizer';

export interface WordMatch {
  /** The word as written in the list (the first entry with this canonical form). */
  readonly word: string;
  /** Original UTF-16 offsets [start, end), on grapheme-cluster boundaries. */
  readonly start: number;
  readonly end: number;
}

export interface ScanResult {
  /** Occurrences found (the longest word ending at each place). */
  readonly count: number;
  /** The first `limit` of them, in text order of their ends. */
  readonly matches: readonly WordMatch[];
}

export interface MaskResult extends ScanResult {
  readonly text: string;
}

/** Chunk ranges [first, last] of the original text, merged and ascending. */
interface Span {
  first: number;
  last: number;
}

export class WordMatcher {
  readonly #automaton: Automaton;
  readonly #words: readonly string[];
  readonly #normalizer: TextNormalizer;
  /** Distinct canonical words compiled. */
  readonly size: number;

  private constructor(automaton: Automaton, words: readonly string[], normalizer: TextNormalizer) {
    this.#automaton = automaton;
    this.#words = words;
    this.#normalizer = normalizer;
    this.size = words.length;
  }

  /** Compiles a list; words whose canonical form is empty are dropped, duplicates merged. */
  static build(words: Iterable<string>): WordMatcher {
    const normalizer = new TextNormalizer();
    const seen = new Set<string>();
    const canonicalWords: string[] = [];
    const originals: string[] = [];
    for (const w of words) {
      const c = normalizer.canonicalize(w);
      if (c.length === 0 || seen.has(c)) continue;
      seen.add(c);
      canonicalWords.push(c);
      originals.push(w);
    }
    return new WordMatcher(new Automaton(canonicalWords), originals, normalizer);
  }

  /** The first occurrence, or undefined; stops scanning at the first hit. */
  first(text: string): WordMatch | undefined {
    if (this.size === 0 || text.length === 0) return undefined;
    const t = this.#normalizer.normalize(text);
    let found: WordMatch | undefined;
    this.#automaton.scan(t.units, t.length, (hit) => {
      found = this.#toMatch(t, hit.start, hit.end, hit.word);
      return false;
    });
    return found;
  }

  /** Every occurrence counted, the first `limit` described. */
  scan(text: string, limit = 32): ScanResult {
    return this.#run(text, limit, false);
  }

  /** Masks every occurrence: each grapheme cluster it touches becomes one `maskChar`. */
  mask(text: string, limit = 32, maskChar = '*'): MaskResult {
    return this.#run(text, limit, true, maskChar);
  }

  #run(text: string, limit: number, masking: boolean, maskChar = '*'): MaskResult {
    if (this.size === 0 || text.length === 0) return { text, count: 0, matches: [] };
    const t = this.#normalizer.normalize(text);
    const matches: WordMatch[] = [];
    const spans: Span[] = [];
    let count = 0;
    this.#automaton.scan(t.units, t.length, (hit) => {
      count++;
      if (matches.length < limit) matches.push(this.#toMatch(t, hit.start, hit.end, hit.word));
      if (masking) addSpan(spans, t.unitChunk[hit.start] as number, t.unitChunk[hit.end - 1] as number);
      return true;
    });
    if (!masking || spans.length === 0) return { text, count, matches };
    return { text: render(text, t, spans, maskChar), count, matches };
  }

  #toMatch(t: NormalizedText, start: number, end: number, word: number): WordMatch {
    const first = t.unitChunk[start] as number;
    const last = t.unitChunk[end - 1] as number;
    return { word: this.#words[word] as string, start: t.chunkStart[first] as number, end: chunkEnd(t, last) };
  }
}

/**
 * Adds a chunk range. Hits arrive in order of their ends, but a longer hit can start
 * before earlier ones, so it may swallow several spans already recorded.
 */
function addSpan(spans: Span[], first: number, last: number): void {
  let top = spans[spans.length - 1];
  while (top !== undefined && first <= top.last + 1 && last >= top.first - 1) {
    first = Math.min(first, top.first);
    last = Math.max(last, top.last);
    spans.pop();
    top = spans[spans.length - 1];
  }
  spans.push({ first, last });
}

function render(text: string, t: NormalizedText, spans: readonly Span[], maskChar: string): string {
  let out = '';
  let pos = 0;
  for (const { first, last } of spans) {
    out += text.slice(pos, t.chunkStart[first]);
    out += maskChar.repeat(t.graphemesIn(first, last));
    pos = chunkEnd(t, last);
  }
  return out + text.slice(pos);
}
