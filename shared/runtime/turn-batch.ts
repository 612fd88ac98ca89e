/**
 * TurnBatcher: the calls a process starts in one event-loop turn leave together, as one
 * `send` of all their inputs (at most `maxBatch` each), and each caller gets its own
 * answer back. A busy server then pays one request to a store per turn instead of one
 * per message; an idle one waits no longer than the end of the current turn.
 *
 * `send` answers one entry per input, in order; an entry that is an Error fails only its
 * own caller, a rejected `send` fails the whole batch.
 */

export type SendMany<I, O> = (inputs: I[]) => Promise<readonly (O | Error)[]>;

interface Waiting<I, O> {
  readonly input: I;
  readonly resolve: (out: O) => void;
  readonly reject: (err: unknown) => void;
}

export class TurnBatcher<I, O> {
  #queue: Waiting<I, O>[] = [];

  constructor(
    private readonly send: SendMany<I, O>,
    private readonly maxBatch = 256,
  ) {}

  add(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      // setImmediate runs after the current I/O phase: every call started by that
      // phase's callbacks (requests read together, replies of the previous batch) joins.
      if (this.#queue.length === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const queue = this.#queue;
    this.#queue = [];
    for (let i = 0; i < queue.length; i += this.maxBatch) this.#sendOne(queue.slice(i, i + this.maxBatch));
  }

  #sendOne(batch: Waiting<I, O>[]): void {
    let sent: Promise<readonly (O | Error)[]>;
    try {
      sent = this.send(batch.map((w) => w.input));
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent.then(
      (outs) => {
        for (let i = 0; i < batch.length; i++) {
          const w = batch[i] as Waiting<I, O>;
          const out = outs[i];
          if (out instanceof Error) w.reject(out);
          else if (i >= outs.length) w.reject(new Error(`batch answered ${outs.length} of ${batch.length} entries`));
          else w.resolve(out as O);
        }
      },
      (err: unknown) => {
        for (const w of batch) w.reject(err);
      },
    );
  }
}
