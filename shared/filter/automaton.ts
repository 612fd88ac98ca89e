/**
 * An Aho–Corasick automaton over UTF-16 code units, built for scanning canonical
 * text held in a Uint16Array (see normalizer.ts) in one pass, linear in the text.
 *
 * Why not an npm library: the ones that fit (modern-ahocorasick, @monyone/aho-corasick)
 * take a JS string and segment it with Intl.Segmenter, which costs microseconds per
 * character on Node 20 (0.15 MB/s measured); ours scans typed arrays the normaliser
 * already produced, with its own offset map.
 *
 * Layout: code units are compressed into classes (0 = in no word, which resets to the
 * root without a lookup); the root has a dense transition row, every other state its
 * edges in one open-addressing hash table. Each state knows the longest word that ends
 * there (itself or through its failure chain), which is all masking needs: a shorter
 * word ending at the same place lies inside the longer one.
 */

export interface AutomatonHit {
  /** Canonical-unit offsets [start, end) of the longest word ending at `end`. */
  readonly start: number;
  readonly end: number;
  /** Index of the word in the list the automaton was built from. */
  readonly word: number;
}

const EMPTY = -1;

export class Automaton {
  readonly #classOf = new Int32Array(65536);
  readonly #rootNext: Int32Array;
  readonly #keyState: Int32Array;
  readonly #keyClass: Int32Array;
  readonly #next: Int32Array;
  readonly #mask: number;
  readonly #fail: Int32Array;
  readonly #outLen: Int32Array;
  readonly #outWord: Int32Array;
  readonly states: number;

  /** `words` must be non-empty strings, distinct. */
  constructor(words: readonly string[]) {
    let classes = 0;
    let units = 0;
    for (const w of words) {
      units += w.length;
      for (let k = 0; k < w.length; k++) {
        const u = w.charCodeAt(k);
        if (this.#classOf[u] === 0) this.#classOf[u] = ++classes;
      }
    }
    const maxStates = units + 1;
    const parent = new Int32Array(maxStates);
    const viaClass = new Int32Array(maxStates);
    const depth = new Int32Array(maxStates);
    const terminal = new Int32Array(maxStates).fill(EMPTY);
    let cap = 16;
    while (cap < units * 2) cap *= 2;
    this.#mask = cap - 1;
    this.#keyState = new Int32Array(cap).fill(EMPTY);
    this.#keyClass = new Int32Array(cap);
    this.#next = new Int32Array(cap);
    this.#rootNext = new Int32Array(classes + 1);

    let states = 1;
    words.forEach((w, index) => {
      let s = 0;
      for (let k = 0; k < w.length; k++) {
        const c = this.#classOf[w.charCodeAt(k)] as number;
        let t = this.#step(s, c);
        if (t < 0) {
          t = states++;
          parent[t] = s;
          viaClass[t] = c;
          depth[t] = (depth[s] as number) + 1;
          this.#insert(s, c, t);
        }
        s = t;
      }
      if (terminal[s] === EMPTY) terminal[s] = index;
    });
    this.states = states;

    // Breadth-first order by depth (counting sort), so a failure target is done first.
    const byDepth = this.#orderByDepth(depth, states);
    this.#fail = new Int32Array(states);
    this.#outLen = new Int32Array(states);
    this.#outWord = new Int32Array(states).fill(EMPTY);
    for (const s of byDepth) {
      if (s === 0) continue;
      const p = parent[s] as number;
      const c = viaClass[s] as number;
      let f = 0;
      if (p !== 0) {
        let g = this.#fail[p] as number;
        for (;;) {
          const t = this.#step(g, c);
          if (t >= 0) {
            f = t;
            break;
          }
          if (g === 0) break;
          g = this.#fail[g] as number;
        }
      }
      this.#fail[s] = f;
      if (terminal[s] !== EMPTY) {
        this.#outLen[s] = depth[s] as number;
        this.#outWord[s] = terminal[s] as number;
      } else {
        this.#outLen[s] = this.#outLen[f] as number;
        this.#outWord[s] = this.#outWord[f] as number;
      }
    }
  }

  /**
   * Scans units[0, length); calls `onHit` for the longest word ending at each
   * position that ends one. Returning false from `onHit` stops the scan.
   */
  scan(units: Uint16Array, length: number, onHit: (hit: AutomatonHit) => boolean): void {
    const classOf = this.#classOf;
    const rootNext = this.#rootNext;
    const fail = this.#fail;
    const outLen = this.#outLen;
    let s = 0;
    for (let i = 0; i < length; i++) {
      const c = classOf[units[i] as number] as number;
      if (c === 0) {
        s = 0;
        continue;
      }
      for (;;) {
        if (s === 0) {
          s = rootNext[c] as number;
          break;
        }
        const t = this.#lookup(s, c);
        if (t >= 0) {
          s = t;
          break;
        }
        s = fail[s] as number;
      }
      const len = outLen[s] as number;
      if (len > 0 && !onHit({ start: i + 1 - len, end: i + 1, word: this.#outWord[s] as number })) return;
    }
  }

  #step(s: number, c: number): number {
    if (s === 0) {
      const t = this.#rootNext[c] as number;
      return t === 0 ? -1 : t;
    }
    return this.#lookup(s, c);
  }

  #lookup(s: number, c: number): number {
    const keys = this.#keyState;
    let h = (Math.imul(s, 0x9e3779b1) ^ Math.imul(c, 0x85ebca6b)) & this.#mask;
    for (;;) {
      const k = keys[h] as number;
      if (k === EMPTY) return -1;
      if (k === s && this.#keyClass[h] === c) return this.#next[h] as number;
      h = (h + 1) & this.#mask;
    }
  }

  #insert(s: number, c: number, t: number): void {
    if (s === 0) {
      this.#rootNext[c] = t;
      return;
    }
    let h = (Math.imul(s, 0x9e3779b1) ^ Math.imul(c, 0x85ebca6b)) & this.#mask;
    while (this.#keyState[h] !== EMPTY) h = (h + 1) & this.#mask;
    this.#keyState[h] = s;
    this.#keyClass[h] = c;
    this.#next[h] = t;
  }

  #orderByDepth(depth: Int32Array, states: number): Int32Array {
    let maxDepth = 0;
    for (let s = 0; s < states; s++) maxDepth = Math.max(maxDepth, depth[s] as number);
    const count = new Int32Array(maxDepth + 2);
    for (let s = 0; s < states; s++) count[(depth[s] as number) + 1]++;
    for (let d = 1; d < count.length; d++) count[d] = (count[d] as number) + (count[d - 1] as number);
    const order = new Int32Array(states);
    for (let s = 0; s < states; s++) order[count[depth[s] as number]++] = s;
    return order;
  }
}
