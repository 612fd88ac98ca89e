/**
 * Publishes offline_msg records in batches formed by load, not by a timer: a record
 * arriving while no send is outstanding goes out at once; records arriving while one is
 * wait and leave together in the next send (at most `maxBatch` per send). A further
 * send runs beside the first (up to `maxInFlight`) only once `laneMinBatch` records
 * wait, so a busy router makes few, full produce requests — each costs kafkajs and the
 * broker far more than a record does — without letting a burst queue up behind one
 * round trip. An idle router therefore adds no latency, and a busy one pays one
 * acks=all round trip per batch instead of per message — kafkajs sends one produce
 * request per send() call and never lingers to batch on its own.
 *
 * Each record's promise settles with its batch: resolved once Kafka acknowledged the
 * whole send, rejected (KAFKA_ERROR) otherwise. A rejected batch may have been written
 * in part; the router then reports failure and the gateway's retry writes the message
 * again, which persist-offline stores once (its rows are unique by user and msg_id).
 */

export interface BatchSend<R> {
  (records: R[], timeoutMs: number): Promise<void>;
}

interface Pending<R> {
  readonly record: R;
  readonly timeoutMs: number;
  resolve(): void;
  reject(err: unknown): void;
}

export class LoadBatcher<R> {
  readonly #queue: Pending<R>[] = [];
  #inflight = 0;
  #sends = 0;
  #records = 0;

  constructor(
    private readonly send: BatchSend<R>,
    private readonly maxInFlight = 2,
    private readonly maxBatch = 500,
    private readonly laneMinBatch = 64,
  ) {}

  publish(record: R, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ record, timeoutMs, resolve, reject });
      this.#pump();
    });
  }

  /** Sends made and records sent so far (their ratio is the mean batch size). */
  stats(): { sends: number; records: number; queued: number; inflight: number } {
    return { sends: this.#sends, records: this.#records, queued: this.#queue.length, inflight: this.#inflight };
  }

  #pump(): void {
    while (
      this.#inflight < this.maxInFlight &&
      this.#queue.length > 0 &&
      (this.#inflight === 0 || this.#queue.length >= this.laneMinBatch)
    ) {
      const batch = this.#queue.splice(0, this.maxBatch);
      this.#inflight += 1;
      this.#sends += 1;
      this.#records += batch.length;
      // The batch waits no longer than its most patient record (each caller also bounds its own wait).
      const timeoutMs = Math.max(...batch.map((p) => p.timeoutMs));
      this.send(
        batch.map((p) => p.record),
        timeoutMs,
      ).then(
        () => batch.forEach((p) => p.resolve()),
        (err: unknown) => batch.forEach((p) => p.reject(err)),
      ).finally(() => {
        this.#inflight -= 1;
        this.#pump();
      });
    }
  }
}
