/**
 * Offset commits of one consumer, coalesced: while one OffsetCommit request is in
 * flight, the commits asked for meanwhile (any partitions) wait and leave together as
 * the next request, carrying the latest offset of each partition. Partitions handled
 * concurrently then cost the broker one request per round instead of one per batch.
 *
 * A commit resolves once the request carrying it succeeded; a failed request fails
 * every commit it carried (their batches stay uncommitted and are redelivered).
 */

export interface TopicOffsets {
  readonly topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
}

export type SendCommit = (offsets: TopicOffsets) => Promise<void>;

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class OffsetCommits {
  #offsets = new Map<string, Map<number, string>>();
  #waiters: Waiter[] = [];
  #send: SendCommit | undefined;
  #inFlight = false;
  #requests = 0;

  /**
   * Commits `offset` (the next record to read) for the partition. `send` is how this
   * call's consumer commits; the request uses the latest one given.
   */
  commit(topic: string, partition: number, offset: string, send: SendCommit): Promise<void> {
    let partitions = this.#offsets.get(topic);
    if (!partitions) this.#offsets.set(topic, (partitions = new Map()));
    const prior = partitions.get(partition);
    // A partition's commits come in order; never move one back within a request.
    if (prior === undefined || BigInt(offset) > BigInt(prior)) partitions.set(partition, offset);
    this.#send = send;
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (!this.#inFlight) void this.#flush();
    return done;
  }

  /** OffsetCommit requests sent so far. */
  get requests(): number {
    return this.#requests;
  }

  async #flush(): Promise<void> {
    while (this.#waiters.length > 0) {
      const waiters = this.#waiters;
      const offsets: TopicOffsets = {
        topics: [...this.#offsets].map(([topic, partitions]) => ({
          topic,
          partitions: [...partitions].map(([partition, offset]) => ({ partition, offset })),
        })),
      };
      const send = this.#send as SendCommit;
      this.#waiters = [];
      this.#offsets = new Map();
      this.#inFlight = true;
      this.#requests++;
      try {
        await send(offsets);
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
      } finally {
        this.#inFlight = false;
      }
    }
  }
}
