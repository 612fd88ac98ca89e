/**
 * Which recipients exist, from the users table through a TTL cache
 * (USERS_CACHE_TTL): a known user is asked of MySQL once per TTL per process, and
 * concurrent first lookups of one user share one query. Only "exists" is cached: a user
 * created a moment ago is never refused for longer than a query takes, and unknown ids
 * (rare, and refused anyway) cannot fill the cache.
 */
import { ImError } from '../../shared/errors';

export interface UserLookup {
  get(userId: string): Promise<unknown>;
}

export class RecipientCache {
  readonly #known = new Map<string, number>();
  readonly #inflight = new Map<string, Promise<boolean>>();

  constructor(
    private readonly users: UserLookup,
    private readonly ttlMs: number,
    private readonly maxEntries = 100_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Whether the user exists; RETRIEVAL_ERROR when the users table cannot be read. */
  async exists(userId: string): Promise<boolean> {
    const until = this.#known.get(userId);
    if (until !== undefined) {
      if (until > this.clock()) return true;
      this.#known.delete(userId);
    }
    let flight = this.#inflight.get(userId);
    if (!flight) {
      flight = this.#query(userId).finally(() => this.#inflight.delete(userId));
      this.#inflight.set(userId, flight);
    }
    return flight;
  }

  async #query(userId: string): Promise<boolean> {
    let found: unknown;
    try {
      found = await this.users.get(userId);
    } catch (err) {
      throw new ImError('RETRIEVAL_ERROR', 'users table unavailable', { cause: err });
    }
    if (found === undefined) return false;
    if (this.ttlMs > 0) {
      // Map keeps insertion order: dropping the first key evicts the oldest entry.
      if (this.#known.size >= this.maxEntries) this.#known.delete(this.#known.keys().next().value as string);
      this.#known.set(userId, this.clock() + this.ttlMs);
    }
    return true;
  }
}
