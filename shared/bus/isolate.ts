/**
 * Finds the records that can never succeed inside a batch that failed as a whole: the
 * batch is split in halves, recursively, until each poison item stands alone, while
 * every half that succeeds is done once. A transient (non-poison) error aborts the
 * search and propagates, so the caller retries the whole batch — which is why `run`
 * must be idempotent. Costs about 2·log2(n) extra runs per poison item.
 */

export interface Isolated<T, R> {
  /** Results of the runs that succeeded (one per successful subset). */
  readonly results: R[];
  /** Poison items, each with the error it failed with alone. */
  readonly failed: { item: T; error: unknown }[];
}

export async function isolate<T, R>(
  items: readonly T[],
  run: (subset: readonly T[]) => Promise<R>,
  isPoison: (err: unknown) => boolean,
): Promise<Isolated<T, R>> {
  const out: Isolated<T, R> = { results: [], failed: [] };
  await visit(items);
  return out;

  async function visit(subset: readonly T[]): Promise<void> {
    if (subset.length === 0) return;
    try {
      out.results.push(await run(subset));
    } catch (err) {
      if (!isPoison(err)) throw err;
      if (subset.length === 1) {
        out.failed.push({ item: subset[0] as T, error: err });
        return;
      }
      const mid = Math.ceil(subset.length / 2);
      await visit(subset.slice(0, mid));
      await visit(subset.slice(mid));
    }
  }
}
