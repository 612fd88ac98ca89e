/**
 * Coalesces concurrent keyed reads into batched ones, formed by load rather than by a
 * timer: a key asked for while fewer than `maxInFlight` batches are outstanding is
 * read at once (an idle process adds no latency); keys asked for while all are busy
 * wait and leave together in the next batch (at most `maxBatch` distinct keys), and
 * concurrent asks for one key share one read. Under load this turns N statements,
 * each paying a network round trip and its system calls, into a few.
 *
 * Each caller gets its key's value, or the batch's error; a key the loader left out of
 * its answer is a programming error and rejects that caller.
 */

export type BatchLoad<K, V> = (keys: readonly K[]) => Promise<ReadonlyMap<K, V>>;

export interface KeyedBatcherOptions {
  /** Batches outstanding at once (≥ 1). */
  readonly maxInFlight?: number;
  /** Distinct keys per batch (≥ 1). */
  readonly maxBatch?: number;
}

interface Waiter<V> {
  resolve(value: V): void;
  reject(err: unknown): void;
}

export class KeyedBatcher<K, V> {
  /** Waiting keys in arrival order, each with every caller that asked for it. */
  readonly #queue = new Map<K, Waiter<V>[]>();
  readonly #maxInFlight: number;
  readonly #maxBatch: number;
  #inflight = 0;
  #batches = 0;
  #keys = 0;

  constructor(
    private readonly loadMany: BatchLoad<K, V>,
    opts: KeyedBatcherOptions = {},
  ) {
    this.#maxInFlight = Math.max(1, opts.maxInFlight ?? 4);
    this.#maxBatch = Math.max(1, opts.maxBatch ?? 64);
  }

  load(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const waiting = this.#queue.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else this.#queue.set(key, [{ resolve, reject }]);
      this.#pump();
    });
  }

  /** Batches run and keys read so far (their ratio is the mean batch size). */
  stats(): { batches: number; keys: number; queued: number; inflight: number } {
    return { batches: this.#batches, keys: this.#keys, queued: this.#queue.size, inflight: this.#inflight };
  }

  #pump(): void {
    while (this.#inflight < this.#maxInFlight && this.#queue.size > 0) {
      const batch = new Map<K, Waiter<V>[]>();
      for (const [key, waiters] of this.#queue) {
        batch.set(key, waiters);
        this.#queue.delete(key);
        if (batch.size >= this.#maxBatch) break;
      }
      this.#inflight += 1;
      this.#batches += 1;
      this.#keys += batch.size;
      const keys = [...batch.keys()];
      // A loader that throws synchronously still settles its callers.
      Promise.resolve()
        .then(() => this.loadMany(keys))
        .then(
          (values) => {
            for (const [key, waiters] of batch) {
              if (values.has(key)) for (const w of waiters) w.resolve(values.get(key) as V);
              else for (const w of waiters) w.reject(new Error(`batch load returned no value for ${String(key)}`));
            }
          },
          (err: unknown) => {
            for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
          },
        )
        .finally(() => {
          this.#inflight -= 1;
          this.#pump();
        });
    }
  }
}
