/**
 * Turns a text into its canonical form (see unicode.ts) as UTF-16 code units, plus an
 * offset map from every canonical unit back to the original text, so a match found in
 * the canonical form masks exactly the original characters it came from.
 *
 * The unit of the map is a *chunk*: one extended grapheme cluster (UAX #29), or a few
 * adjacent clusters whose canonical forms compose with each other (compatibility
 * jamo ㄱ+ㅏ → 가). NFKC can change length (ﬁ → fi, ㍿ → 株式会社, ß → ss, ｶﾞ → ガ), so
 * per-chunk normalisation is what keeps the mapping exact: the canonical text is the
 * concatenation of the chunks' canonical forms, and (checked by a property test) equal
 * to canonicalising the whole text at once.
 *
 * Buffers are reused between calls: a result is valid until the next `normalize`.
 */
import { FLAGS, F_AFTER, F_BEFORE, F_HANGUL, F_LINKER, F_RI, canonical, combinesBackward, flagsOf, hangulJoins, segmentRun } from './unicode';
import { unitsToString } from './units';

/** Chunks longer than this are never merged further (bounds adversarial re-normalising). */
const MAX_MERGE_UNITS = 128;
const CACHE_LIMIT = 8192;

/**
 * BMP code points whose canonical form is one unit that never composes backward:
 * 0 = not yet known, -1 = no, else that unit + 1. A memo of a pure function.
 */
const SIMPLE_BMP = new Int32Array(0x10000);
const ASCII_FOLD = new Uint16Array(128).map((_, c) => (c >= 65 && c <= 90 ? c + 32 : c));

export interface NormalizedText {
  /** Canonical UTF-16 code units; only [0, length) is meaningful. */
  readonly units: Uint16Array;
  readonly length: number;
  /** Chunk index of every canonical unit. */
  readonly unitChunk: Int32Array;
  /** Original UTF-16 offset where every chunk starts (it ends where the next starts). */
  readonly chunkStart: Int32Array;
  readonly chunkCount: number;
  /** Length of the original text. */
  readonly textLength: number;
  /** Grapheme clusters in the whole text. */
  readonly graphemes: number;
  /** Grapheme clusters covered by chunks first..last (inclusive). */
  graphemesIn(first: number, last: number): number;
}

/** Original UTF-16 offset where chunk `c` ends. */
export function chunkEnd(t: NormalizedText, c: number): number {
  return c + 1 < t.chunkCount ? (t.chunkStart[c + 1] as number) : t.textLength;
}

export class TextNormalizer implements NormalizedText {
  units = new Uint16Array(1024);
  unitChunk = new Int32Array(1024);
  length = 0;
  chunkStart = new Int32Array(1024);
  chunkCount = 0;
  textLength = 0;
  graphemes = 0;
  #text = '';
  /** Last chunk that produced canonical units (merges attach to it). */
  #anchor = -1;
  /**
   * Chunks holding more than one cluster (after merges), ascending, with how many
   * clusters beyond the first each holds. Rare, so kept out of the per-unit arrays.
   */
  readonly #multiChunk: number[] = [];
  readonly #multiExtra: number[] = [];
  readonly #cpCache = new Map<number, string>();
  readonly #clusterCache = new Map<string, string>();
  readonly #runCache = new Map<string, number[]>();

  /** Canonical form of a whole string through the same chunking (used for words). */
  canonicalize(text: string): string {
    this.normalize(text);
    return unitsToString(this.units, 0, this.length);
  }

  graphemesIn(first: number, last: number): number {
    let n = last - first + 1;
    for (let k = 0; k < this.#multiChunk.length; k++) {
      const c = this.#multiChunk[k] as number;
      if (c >= first && c <= last) n += this.#multiExtra[k] as number;
    }
    return n;
  }

  normalize(text: string): NormalizedText {
    const n = text.length;
    this.#text = text;
    this.textLength = n;
    this.length = 0;
    this.chunkCount = 0;
    this.graphemes = 0;
    this.#anchor = -1;
    this.#multiChunk.length = 0;
    this.#multiExtra.length = 0;
    // Invariant: room for one unit per input unit still to read (the fast path writes
    // one unit per code point); slow paths reserve for their expansion on top. Chunks
    // never outnumber input units.
    this.#reserveUnits(n);
    if (this.chunkStart.length < n) this.chunkStart = new Int32Array(Math.max(n, this.chunkStart.length * 2));
    let units = this.units;
    let unitChunk = this.unitChunk;
    const chunkStart = this.chunkStart;
    let runStart = 0;
    let prevCp = -1;
    let prevFlags = 0;
    let prevStart = 0;
    let riOdd = false;
    let linkerPending = false;
    let i = 0;
    while (i < n) {
      let cp = text.charCodeAt(i);
      let len = 1;
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n) {
        const lo = text.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
          len = 2;
        }
      }
      let f = FLAGS[cp] as number;
      if (f === 0) f = flagsOf(cp);
      if (i > 0) {
        const both = prevFlags & f;
        const joined =
          (prevFlags & F_AFTER) !== 0 ||
          (f & F_BEFORE) !== 0 ||
          linkerPending ||
          ((both & F_RI) !== 0 && riOdd) ||
          ((both & F_HANGUL) !== 0 && hangulJoins(prevCp, cp));
        if (!joined) {
          // One code point, one cluster, canonical form one unit of its own (ASCII,
          // CJK, kana…): the hot path, written inline.
          const u =
            prevStart !== runStart ? -1 : prevCp < 0x80 ? (ASCII_FOLD[prevCp] as number) : prevCp < 0x10000 ? (SIMPLE_BMP[prevCp] as number) - 1 : -1;
          if (u >= 0) {
            const c = this.chunkCount++;
            chunkStart[c] = runStart;
            units[this.length] = u;
            unitChunk[this.length++] = c;
            this.graphemes++;
            this.#anchor = c;
          } else {
            if (prevStart === runStart) this.#single(runStart, i, prevCp);
            else this.#run(runStart, i);
            units = this.units;
            unitChunk = this.unitChunk;
          }
          runStart = i;
        }
      }
      riOdd = (f & F_RI) !== 0 && !riOdd;
      if ((f & F_LINKER) !== 0) linkerPending = true;
      else if ((f & F_BEFORE) === 0) linkerPending = false;
      prevCp = cp;
      prevFlags = f;
      prevStart = i;
      i += len;
    }
    if (n > 0) {
      if (prevStart === runStart) this.#single(runStart, n, prevCp);
      else this.#run(runStart, n);
    }
    return this;
  }

  /** One code point that is a grapheme cluster on its own. */
  #single(start: number, end: number, cp: number): void {
    let form = this.#cpCache.get(cp);
    if (form === undefined) {
      form = cp < 0x80 ? String.fromCharCode(ASCII_FOLD[cp] as number) : canonical(String.fromCodePoint(cp));
      this.#cpCache.set(cp, form);
      if (cp < 0x10000) {
        const u = form.charCodeAt(0);
        const simple = form.length === 1 && (u < 0xd800 || u > 0xdfff) && !combinesBackward(u);
        SIMPLE_BMP[cp] = simple ? u + 1 : -1;
      }
    }
    this.#cluster(start, end, form);
  }

  /** A run whose inner boundaries ICU decides. */
  #run(start: number, end: number): void {
    const run = this.#text.slice(start, end);
    let lengths = this.#runCache.get(run);
    if (lengths === undefined) {
      lengths = segmentRun(run);
      if (this.#runCache.size >= CACHE_LIMIT) this.#runCache.clear();
      this.#runCache.set(run, lengths);
    }
    let pos = start;
    for (const len of lengths) {
      this.#cluster(pos, pos + len, this.#canonicalCached(this.#text.slice(pos, pos + len)));
      pos += len;
    }
  }

  #canonicalCached(s: string): string {
    let form = this.#clusterCache.get(s);
    if (form === undefined) {
      form = canonical(s);
      if (this.#clusterCache.size >= CACHE_LIMIT) this.#clusterCache.clear();
      this.#clusterCache.set(s, form);
    }
    return form;
  }

  #cluster(start: number, end: number, form: string): void {
    const anchor = this.#anchor;
    if (form.length > 0 && anchor >= 0 && combinesBackward(form.codePointAt(0) as number)) {
      const from = this.chunkStart[anchor] as number;
      if (end - from <= MAX_MERGE_UNITS) {
        const together = this.#canonicalCached(this.#text.slice(from, end));
        let unitsFrom = this.length;
        while (unitsFrom > 0 && this.unitChunk[unitsFrom - 1] === anchor) unitsFrom--;
        if (together !== unitsToString(this.units, unitsFrom, this.length) + form) {
          this.#mergeInto(anchor, unitsFrom, together, end);
          return;
        }
      }
    }
    const c = this.chunkCount++;
    this.chunkStart[c] = start;
    this.graphemes++;
    if (form.length === 0) return;
    this.#write(form, c, end);
    this.#anchor = c;
  }

  /** Folds every chunk after `anchor`, and one more cluster, into `anchor`. */
  #mergeInto(anchor: number, unitsFrom: number, form: string, end: number): void {
    // Clusters absorbed: the new one, each later chunk, and what those had absorbed.
    let extra = 1 + (this.chunkCount - 1 - anchor);
    const multi = this.#multiChunk;
    while (multi.length > 0 && (multi[multi.length - 1] as number) > anchor) {
      multi.pop();
      extra += this.#multiExtra.pop() as number;
    }
    if (multi[multi.length - 1] === anchor) this.#multiExtra[multi.length - 1] = (this.#multiExtra[multi.length - 1] as number) + extra;
    else {
      multi.push(anchor);
      this.#multiExtra.push(extra);
    }
    this.chunkCount = anchor + 1;
    this.length = unitsFrom;
    this.graphemes++;
    this.#write(form, anchor, end);
  }

  /** Writes a chunk's form, keeping room for the input after `end`. */
  #write(form: string, chunk: number, end: number): void {
    this.#reserveUnits(form.length + this.textLength - end);
    for (let k = 0; k < form.length; k++) {
      this.units[this.length] = form.charCodeAt(k);
      this.unitChunk[this.length++] = chunk;
    }
  }

  #reserveUnits(extra: number): void {
    const need = this.length + extra;
    if (need <= this.units.length) return;
    let size = this.units.length * 2;
    while (size < need) size *= 2;
    const units = new Uint16Array(size);
    units.set(this.units.subarray(0, this.length));
    const map = new Int32Array(size);
    map.set(this.unitChunk.subarray(0, this.length));
    this.units = units;
    this.unitChunk = map;
  }
}
