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
 * root without a lookup) and the trie is a double array: the child of state s by
 * class c is t = base[s] + c when check[t] === s, two array reads per step. Each state
 * knows the longest word that ends there (itself or through its failure chain),
 * which is all masking needs: a shorter word ending at the same place lies inside
 * the longer one.
 */

export interface AutomatonHit {
  /** Canonical-unit offsets [start, end) of the longest word ending at `end`. */
  readonly start: number;
  readonly end: number;
  /** Index of the word in the list the automaton was built from. */
  readonly word: number;
}

const FREE = -1;

export class Automaton {
  readonly #classOf: Uint16Array | Int32Array;
  readonly #base: Int32Array;
  readonly #check: Int32Array;
  readonly #fail: Int32Array;
  readonly #outLen: Int32Array;
  readonly #outWord: Int32Array;
  /** Trie states (root included). */
  readonly states: number;

  /** `words` must be non-empty strings, distinct. */
  constructor(words: readonly string[]) {
    const classOf = new Int32Array(65536);
    let classes = 0;
    for (const w of words) {
      for (let k = 0; k < w.length; k++) {
        const u = w.charCodeAt(k);
        if (classOf[u] === 0) classOf[u] = ++classes;
      }
    }
    this.#classOf = classes < 65535 ? Uint16Array.from(classOf) : classOf;

    // 1. A plain trie (children maps), nodes numbered in insertion order.
    const kids: Map<number, number>[] = [new Map()];
    const terminal: number[] = [-1];
    const depth: number[] = [0];
    words.forEach((w, index) => {
      let s = 0;
      for (let k = 0; k < w.length; k++) {
        const c = classOf[w.charCodeAt(k)] as number;
        let t = (kids[s] as Map<number, number>).get(c);
        if (t === undefined) {
          t = kids.length;
          kids.push(new Map());
          terminal.push(-1);
          depth.push((depth[s] as number) + 1);
          (kids[s] as Map<number, number>).set(c, t);
        }
        s = t;
      }
      if (terminal[s] === -1) terminal[s] = index;
    });
    this.states = kids.length;

    // 2. Breadth-first into the double array; a node's slot is its state from here on.
    const da = new DoubleArrayBuilder(classes);
    const slot = new Int32Array(kids.length);
    const order: number[] = [0];
    for (let i = 0; i < order.length; i++) {
      const u = order[i] as number;
      const children = [...(kids[u] as Map<number, number>)].sort((a, b) => a[0] - b[0]);
      if (children.length === 0) continue;
      const b = da.place(slot[u] as number, children.map(([c]) => c));
      for (const [c, v] of children) {
        slot[v] = b + c;
        order.push(v);
      }
    }
    this.#base = da.base;
    this.#check = da.check;

    // 3. Failure links and the longest word ending in each state, in BFS order so a
    //    state's failure target (always shallower) is finished first.
    const size = da.size;
    this.#fail = new Int32Array(size);
    this.#outLen = new Int32Array(size);
    this.#outWord = new Int32Array(size).fill(-1);
    for (const u of order) {
      const su = slot[u] as number;
      for (const [c, v] of kids[u] as Map<number, number>) {
        const sv = slot[v] as number;
        let f = 0;
        if (su !== 0) {
          for (let g = this.#fail[su] as number; ; g = this.#fail[g] as number) {
            const t = this.#child(g, c);
            if (t >= 0) {
              f = t;
              break;
            }
            if (g === 0) break;
          }
        }
        this.#fail[sv] = f;
        if ((terminal[v] as number) >= 0) {
          this.#outLen[sv] = depth[v] as number;
          this.#outWord[sv] = terminal[v] as number;
        } else {
          this.#outLen[sv] = this.#outLen[f] as number;
          this.#outWord[sv] = this.#outWord[f] as number;
        }
      }
    }
  }

  /**
   * Scans units[0, length); calls `onHit` for the longest word ending at each
   * position that ends one. Returning false from `onHit` stops the scan.
   */
  scan(units: Uint16Array, length: number, onHit: (hit: AutomatonHit) => boolean): void {
    const classOf = this.#classOf;
    const base = this.#base;
    const check = this.#check;
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
        const t = (base[s] as number) + c;
        if (check[t] === s) {
          s = t;
          break;
        }
        if (s === 0) break;
        s = fail[s] as number;
      }
      const len = outLen[s] as number;
      if (len > 0 && !onHit({ start: i + 1 - len, end: i + 1, word: this.#outWord[s] as number })) return;
    }
  }

  #child(s: number, c: number): number {
    const t = (this.#base[s] as number) + c;
    return this.#check[t] === s ? t : -1;
  }
}

/**
 * Places each state's children into free slots of the double array: first fit over a
 * linked list of the free slots, so placing skips the dense, already-filled region.
 * Leaves keep base 0: base + c then lands on a root child's slot, whose check (0)
 * never equals a non-root state.
 */
class DoubleArrayBuilder {
  base = new Int32Array(1024);
  check = new Int32Array(1024).fill(FREE);
  /** Free-slot list: next/prev free slot, -1 at the ends; slot 0 (the root) is never free. */
  #next = new Int32Array(1024);
  #prev = new Int32Array(1024);
  #head = -1;
  #tail = -1;
  readonly #classes: number;

  constructor(classes: number) {
    this.#classes = classes;
    this.check[0] = -2; // the root's own slot
    this.#link(1, this.base.length);
    this.#ensure(classes + 2);
  }

  get size(): number {
    return this.base.length;
  }

  /** Chooses base[s] so every child class lands in a free slot; returns it. */
  place(s: number, classes: readonly number[]): number {
    const first = classes[0] as number;
    for (let f = this.#head; ; f = this.#next[f] as number) {
      const b = f - first;
      if (b < 1) continue;
      this.#ensure(b + this.#classes + 2);
      let fits = true;
      for (let k = 1; k < classes.length && fits; k++) fits = this.check[b + (classes[k] as number)] === FREE;
      if (!fits) continue;
      this.base[s] = b;
      for (const c of classes) this.#take(b + c, s);
      return b;
    }
  }

  #take(slot: number, owner: number): void {
    this.check[slot] = owner;
    const p = this.#prev[slot] as number;
    const n = this.#next[slot] as number;
    if (p >= 0) this.#next[p] = n;
    else this.#head = n;
    if (n >= 0) this.#prev[n] = p;
    else this.#tail = p;
  }

  /** Appends slots [from, to) to the free list. */
  #link(from: number, to: number): void {
    for (let i = from; i < to; i++) {
      this.#prev[i] = this.#tail;
      this.#next[i] = -1;
      if (this.#tail >= 0) this.#next[this.#tail] = i;
      else this.#head = i;
      this.#tail = i;
    }
  }

  #ensure(n: number): void {
    const old = this.base.length;
    if (n <= old) return;
    let size = old;
    while (size < n) size *= 2;
    const grow = (a: Int32Array, fill: number) => {
      const b = new Int32Array(size).fill(fill);
      b.set(a);
      return b;
    };
    this.base = grow(this.base, 0);
    this.check = grow(this.check, FREE);
    this.#next = grow(this.#next, -1);
    this.#prev = grow(this.#prev, -1);
    this.#link(old, size);
  }
}
