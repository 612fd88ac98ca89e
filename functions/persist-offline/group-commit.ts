/**
 * Group commit: work submitted while a group is in flight waits, and everything waiting
 * leaves together as the next group, so batches of several partitions that are ready at
 * the same moment share one transaction (or one produce request) instead of paying one
 * each. There is no timer: an idle committer starts a group at once, so a lone batch
 * waits for nothing; under load the groups grow by themselves.
 *
 * `run` answers one entry per input, in order; a rejected `run` fails every input of
 * its group (each caller retries on its own, the work being idempotent).
 */

export type RunGroup<I, O> = (inputs: I[]) => Promise<O[]>;

export interface GroupCommitOptions<I> {
  /** Groups in flight at the same time (default 1). */
  readonly concurrency?: number;
  /** A group closes once its inputs weigh this much (it always takes at least one). */
  readonly maxWeight?: number;
  readonly weight?: (input: I) => number;
}

interface Waiting<I, O> {
  readonly input: I;
  readonly resolve: (out: O) => void;
  readonly reject: (err: unknown) => void;
}

export class GroupCommit<I, O> {
  readonly #run: RunGroup<I, O>;
  readonly #concurrency: number;
  readonly #maxWeight: number;
  readonly #weight: (input: I) => number;
  #queue: Waiting<I, O>[] = [];
  #inFlight = 0;
  #kicked = false;
  readonly #stats = { groups: 0, inputs: 0 };

  constructor(run: RunGroup<I, O>, opts: GroupCommitOptions<I> = {}) {
    this.#run = run;
    this.#concurrency = Math.max(1, opts.concurrency ?? 1);
    this.#maxWeight = opts.maxWeight ?? Infinity;
    this.#weight = opts.weight ?? (() => 1);
  }

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      if (this.#inFlight < this.#concurrency && !this.#kicked) {
        this.#kicked = true;
        setImmediate(() => {
          this.#kicked = false;
          this.#next();
        });
      }
    });
  }

  /** Groups run so far and inputs they carried (the mean group size shows the effect). */
  stats(): { groups: number; inputs: number } {
    return { ...this.#stats };
  }

  #done(): void {
    this.#inFlight--;
    this.#next();
  }

  #next(): void {
    while (this.#inFlight < this.#concurrency && this.#queue.length > 0) {
      let take = 0;
      let weight = 0;
      while (take < this.#queue.length) {
        const w = this.#weight((this.#queue[take] as Waiting<I, O>).input);
        if (take > 0 && weight + w > this.#maxWeight) break;
        weight += w;
        take++;
      }
      const group = this.#queue.splice(0, take);
      this.#inFlight++;
      this.#stats.groups++;
      this.#stats.inputs += group.length;
      void this.#runGroup(group);
    }
  }

  async #runGroup(group: Waiting<I, O>[]): Promise<void> {
    let outs: O[];
    try {
      outs = await this.#run(group.map((w) => w.input));
    } catch (err) {
      this.#done();
      for (const w of group) w.reject(err);
      return;
    }
    // The next group starts before this one's callers resume: their continuations (new
    // batches decoded, push tasks built) would otherwise run while the server waits.
    this.#done();
    for (let i = 0; i < group.length; i++) {
      const w = group[i] as Waiting<I, O>;
      if (i < outs.length) w.resolve(outs[i] as O);
      else w.reject(new Error(`group answered ${outs.length} of ${group.length} inputs`));
    }
  }
}
