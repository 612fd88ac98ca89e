/**
 * SequenceGenerator: per-conversation numbers that strictly increase and are never
 * issued twice — across processes and after Redis loses its data (hi/lo; the argument
 * is in docs/sequences.md).
 *
 * Steady state is one Redis round trip (next-1). When a conversation's block is used
 * up, one caller per process reserves the next block in MySQL and raises the Redis
 * ceiling (raise-1); when the Redis state is missing, one caller per process recreates
 * it under the MySQL row lock (init-1). Everyone else waits for that refill and tries
 * again.
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
  readonly clock?: () => number;
}

const DEFAULT_MAX_ATTEMPTS = 64;

export class SequenceGenerator {
  readonly #cmd: SequenceCommands;
  readonly #store: ReservationStore;
  readonly #metrics: SequenceMetrics;
  readonly #block: number;
  readonly #ttl: string;
  readonly #maxAttempts: number;
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
  }

  /** The next number of `conversationId` (see conversation-id.ts for building ids). */
  async next(conversationId: string): Promise<number> {
    const key = RedisKeys.sequence(conversationId);
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      const reply = await this.#redis(() => this.#cmd.imSeqNext(key, this.#ttl), conversationId);
      if (reply > 0) {
        this.#metrics.sequenceGenerated.inc();
        return reply;
      }
      if (reply !== SequenceReply.NO_STATE && reply !== SequenceReply.EXHAUSTED) {
        throw new ImError('SEQUENCE_ERROR', `unexpected sequence reply ${reply}`, { details: { conversationId } });
      }
      await this.#refill(conversationId, key, reply === SequenceReply.NO_STATE);
    }
    throw new ImError('SEQUENCE_ERROR', `no sequence number after ${this.#maxAttempts} refills`, {
      details: { conversationId },
    });
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
