/**
 * SequenceGenerator: per-conversation numbers that strictly increase and are never
 * issued twice — across processes and after Redis loses its data (hi/lo; the argument
 * is in docs/sequences.md).
 *
 * Steady state: the requests a process makes in one event-loop turn go to Redis as
 * one script call (next-many), so each number costs at most one round trip and a busy
 * process sends one command per turn instead of one per number. When a conversation's block is used
 * up, one caller per process reserves the next block in MySQL and raises the Redis
 * ceiling (raise-1); when the Redis state is missing, one caller per process recreates
 * it under the MySQL row lock (init-1). Those callers' requests wait for that refill
 * and go into a later batch.
 */
import { ImError } from '../errors';
import type { Metrics } from '../observability/metrics';
import type { Pool } from '../storage/mysql';
import type { Redis } from '../storage/redis';
import { RedisKeys } from '../storage/redis-keys';
import { ReservationStore } from './reservations';
import { SequenceReply, defineSequenceCommands, type SequenceCommands } from './scripts';

export type SequenceMetrics = Pick<Metrics, 'sequenceGenerated' | 'sequenceBlocksReserved'>;

export interface SequenceGeneratorOptions {
  readonly redis: Redis;
  readonly mysql: Pool;
  readonly metrics: SequenceMetrics;
  /** Numbers reserved per MySQL write (config.sequence.snapshotInterval). */
  readonly blockSize: number;
  /** Idle conversations' Redis state expires after this; 0 keeps it (config.sequence.idleTtlMs). */
  readonly idleTtlMs?: number;
  /** Refill rounds one call may wait through before failing with SEQUENCE_ERROR. */
  readonly maxAttempts?: number;
  /** Most requests per script call; 1 sends one call per number (needed with Redis Cluster). */
  readonly maxBatch?: number;
  readonly clock?: () => number;
}

const DEFAULT_MAX_ATTEMPTS = 64;
const DEFAULT_MAX_BATCH = 256;

interface Request {
  readonly conversationId: string;
  readonly key: string;
  attempt: number;
  readonly resolve: (n: number) => void;
  readonly reject: (err: unknown) => void;
}

export class SequenceGenerator {
  readonly #cmd: SequenceCommands;
  readonly #store: ReservationStore;
  readonly #metrics: SequenceMetrics;
  readonly #block: number;
  readonly #ttl: string;
  readonly #maxAttempts: number;
  readonly #maxBatch: number;
  /** Requests of the current event-loop turn, sent together at its end. */
  #queue: Request[] = [];
  /** Single flight: at most one refill per conversation in this process. */
  readonly #refills = new Map<string, Promise<void>>();

  constructor(opts: SequenceGeneratorOptions) {
    if (!Number.isSafeInteger(opts.blockSize) || opts.blockSize < 1) throw new Error('blockSize must be a positive integer');
    // A timed-out command stays queued in ioredis and may run later; a late init-1
    // would recreate the state after the row lock is gone (see docs/sequences.md).
    if (opts.redis.options.commandTimeout !== undefined) {
      throw new Error('SequenceGenerator needs a Redis client without commandTimeout');
    }
    this.#cmd = defineSequenceCommands(opts.redis);
    this.#store = new ReservationStore(opts.mysql, opts.clock);
    this.#metrics = opts.metrics;
    this.#block = opts.blockSize;
    this.#ttl = String(Math.max(0, Math.trunc(opts.idleTtlMs ?? 0)));
    this.#maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.#maxBatch = Math.max(1, opts.maxBatch ?? DEFAULT_MAX_BATCH);
  }

  /** The next number of `conversationId` (see conversation-id.ts for building ids). */
  next(conversationId: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#enqueue({ conversationId, key: RedisKeys.sequence(conversationId), attempt: 1, resolve, reject });
    });
  }

  #enqueue(request: Request): void {
    this.#queue.push(request);
    // setImmediate runs after the event loop's current I/O phase: every request started
    // by the callbacks of that phase (gRPC calls read together, the continuations of
    // the previous batch's reply) goes out in one script call.
    if (this.#queue.length === 1) setImmediate(() => this.#flush());
  }

  #flush(): void {
    const queue = this.#queue;
    this.#queue = [];
    for (let i = 0; i < queue.length; i += this.#maxBatch) this.#send(queue.slice(i, i + this.#maxBatch));
  }

  #send(batch: Request[]): void {
    this.#cmd.imSeqNext(batch.length, ...batch.map((r) => r.key), this.#ttl).then(
      (replies) => {
        let issued = 0;
        for (let i = 0; i < batch.length; i++) {
          const request = batch[i] as Request;
          const reply = replies[i];
          if (typeof reply === 'number' && reply > 0) {
            issued++;
            request.resolve(reply);
          } else if (reply === SequenceReply.NO_STATE || reply === SequenceReply.EXHAUSTED) {
            this.#retryAfterRefill(request, reply === SequenceReply.NO_STATE);
          } else {
            request.reject(
              new ImError('SEQUENCE_ERROR', `unexpected sequence reply ${String(reply)}`, {
                details: { conversationId: request.conversationId },
              }),
            );
          }
        }
        if (issued > 0) this.#metrics.sequenceGenerated.inc(issued);
      },
      (err: unknown) => {
        const error = new ImError('SEQUENCE_ERROR', 'sequence store (redis) unavailable', { cause: err });
        for (const request of batch) request.reject(error);
      },
    );
  }

  #retryAfterRefill(request: Request, recover: boolean): void {
    if (request.attempt >= this.#maxAttempts) {
      request.reject(
        new ImError('SEQUENCE_ERROR', `no sequence number after ${this.#maxAttempts} refills`, {
          details: { conversationId: request.conversationId },
        }),
      );
      return;
    }
    this.#refill(request.conversationId, request.key, recover).then(() => {
      request.attempt++;
      this.#enqueue(request);
    }, request.reject);
  }

  #refill(conversationId: string, key: string, recover: boolean): Promise<void> {
    let flight = this.#refills.get(conversationId);
    if (!flight) {
      flight = (recover ? this.#recover(conversationId, key) : this.#reserve(conversationId, key)).finally(() =>
        this.#refills.delete(conversationId),
      );
      this.#refills.set(conversationId, flight);
    }
    return flight;
  }

  /** Block used up: reserve the next one in MySQL (committed), then raise the ceiling. */
  async #reserve(conversationId: string, key: string): Promise<void> {
    let floor = 0;
    // Normally one round; a second only when the MySQL row was behind Redis.
    for (let round = 0; round < 3; round++) {
      const reservedUntil = await this.#sql(() => this.#store.reserve(conversationId, this.#block, floor), conversationId);
      this.#metrics.sequenceBlocksReserved.inc({ reason: 'exhausted' });
      const cur = await this.#redis(() => this.#cmd.imSeqRaise(key, String(reservedUntil), this.#ttl), conversationId);
      if (cur === SequenceReply.NO_STATE) return this.#recover(conversationId, key);
      if (cur < reservedUntil) return;
      floor = cur;
    }
  }

  /** State missing: recreate it from MySQL under the row lock, then raise to the new block. */
  async #recover(conversationId: string, key: string): Promise<void> {
    const result = await this.#sql(
      () =>
        this.#store.recover(conversationId, this.#block, async (reservedUntil) => {
          const created = await this.#cmd.imSeqInit(key, String(reservedUntil), this.#ttl);
          return created === 1;
        }),
      conversationId,
    );
    if (!result.created) return; // another process recovered it meanwhile
    this.#metrics.sequenceBlocksReserved.inc({ reason: 'recovery' });
    // If the state vanished again the next call sees NO_STATE and recovers again.
    await this.#redis(() => this.#cmd.imSeqRaise(key, String(result.reservedUntil), this.#ttl), conversationId);
  }

  async #redis<T>(work: () => Promise<T>, conversationId: string): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw new ImError('SEQUENCE_ERROR', 'sequence store (redis) unavailable', { cause: err, details: { conversationId } });
    }
  }

  async #sql<T>(work: () => Promise<T>, conversationId: string): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof ImError) throw err;
      throw new ImError('SEQUENCE_ERROR', 'sequence reservation failed', { cause: err, details: { conversationId } });
    }
  }
}
