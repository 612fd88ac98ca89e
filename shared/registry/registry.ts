/**
 * The router side of the registry: which devices a user has and which gateway holds
 * each, from a bounded local cache kept fresh by one prefix watch, falling back to
 * batched snapshot reads of etcd.
 *
 * Freshness, and what a caller can rely on:
 *  - While the watch is live, a cached answer is served; it can lag etcd by the watch's
 *    delivery delay (milliseconds), so it may name a device that just left. That is
 *    safe by contract: a push to a device its gateway no longer holds is answered
 *    "not delivered" (or fails), and the router then takes the offline path.
 *  - While the watch is broken, the cache is not served at all: every lookup reads
 *    etcd within `lookupTimeoutMs`; when etcd is unreachable it fails with
 *    REGISTRY_ERROR by then, and callers take the offline path. Entries are kept and
 *    brought up to date when the watch resumes; after a compaction they are dropped.
 *  - Concurrent misses of one user share one read; a miss for many users costs one
 *    transaction per 128 users, all concurrent (read-users.ts).
 */
import type { Etcd3, IEvent } from 'etcd3';
import type { Config } from '../config';
import { ImError } from '../errors';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { withTimeout } from '../runtime/timeout';
import { DeviceCache, type ReadTicket } from './device-cache';
import { registryError } from './etcd-call';
import { assertId, RegistryKeys } from './keys';
import { PrefixWatch } from './prefix-watch';
import { decodeEntry, readUsers } from './read-users';
import type { DeviceEntry } from './record';

export type RegistryConfig = Pick<Config['registry'], 'prefix' | 'lookupTimeoutMs' | 'cacheSize'>;

export interface RegistryOptions {
  readonly etcd: Pick<Etcd3, 'kv' | 'watchClient'>;
  readonly config: RegistryConfig;
  readonly logger?: Logger;
  readonly metrics?: Pick<Metrics, 'registryLookups' | 'registryWatchResets'>;
  /** How often the watch proves it is alive (it is declared broken after two silent intervals). */
  readonly watchCheckIntervalMs?: number;
}

export const DEFAULT_WATCH_CHECK_INTERVAL_MS = 5000;

export class Registry {
  readonly keys: RegistryKeys;
  readonly #opts: RegistryOptions;
  readonly #cache: DeviceCache | undefined;
  readonly #watch: PrefixWatch | undefined;
  readonly #inflight = new Map<string, Promise<DeviceEntry[]>>();
  readonly #liveWaiters = new Set<() => void>();
  #started = false;
  #closed = false;
  #hits = 0;
  #misses = 0;
  #errors = 0;

  constructor(opts: RegistryOptions) {
    this.#opts = opts;
    this.keys = new RegistryKeys(opts.config.prefix);
    if (opts.config.cacheSize > 0) {
      const cache = new DeviceCache(opts.config.cacheSize);
      this.#cache = cache;
      this.#watch = new PrefixWatch({
        client: opts.etcd,
        prefix: this.keys.usersPrefix,
        checkIntervalMs: opts.watchCheckIntervalMs ?? DEFAULT_WATCH_CHECK_INTERVAL_MS,
        ...(opts.logger ? { logger: opts.logger } : {}),
        handlers: {
          onEvents: (events) => this.#apply(cache, events),
          onLive: (floor) => {
            cache.markLive(floor);
            for (const wake of this.#liveWaiters) wake();
          },
          onStale: () => cache.markStale(),
          onReset: () => {
            cache.reset();
            opts.metrics?.registryWatchResets.inc();
          },
        },
      });
    }
  }

  /** Starts the watch (lookups also start it). Never throws: an unreachable etcd is retried. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#watch?.start();
  }

  /** True when cached answers are being served (always true with the cache disabled). */
  live(): boolean {
    return this.#watch ? this.#watch.live : true;
  }

  /** Resolves once the watch is live; rejects with REGISTRY_ERROR after `timeoutMs`. */
  async whenLive(timeoutMs: number): Promise<void> {
    this.start();
    if (this.live()) return;
    let wake: (() => void) | undefined;
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
      this.#liveWaiters.add(resolve);
    });
    try {
      await withTimeout(woken, timeoutMs, 'registry watch');
    } catch (err) {
      throw registryError('watch start', err);
    } finally {
      if (wake) this.#liveWaiters.delete(wake);
    }
  }

  /** The user's registered devices ([] when none), or REGISTRY_ERROR within the lookup deadline. */
  async lookup(userId: string): Promise<DeviceEntry[]> {
    const found = await this.lookupMany([userId]);
    return found.get(userId) ?? [];
  }

  /**
   * Devices of each distinct user id (every id gets an entry, [] when none), or
   * REGISTRY_ERROR within the lookup deadline for the whole call.
   */
  async lookupMany(userIds: readonly string[]): Promise<Map<string, DeviceEntry[]>> {
    if (this.#closed) throw new ImError('REGISTRY_ERROR', 'registry is closed');
    for (const id of userIds) assertId(id, 'userId');
    this.start();
    const deadlineMs = Date.now() + this.#opts.config.lookupTimeoutMs;
    const result = new Map<string, DeviceEntry[]>();
    const waits: Promise<void>[] = [];
    const toRead: string[] = [];
    const distinct = new Set(userIds);
    let hits = 0;
    for (const userId of distinct) {
      const cached = this.#cache?.get(userId);
      if (cached) {
        result.set(userId, cached);
        hits += 1;
        continue;
      }
      const shared = this.#inflight.get(userId);
      if (shared) waits.push(shared.then((devices) => void result.set(userId, devices)));
      else toRead.push(userId);
    }
    if (toRead.length > 0) waits.push(this.#read(toRead, deadlineMs, result));
    try {
      if (waits.length > 0) {
        await withTimeout(Promise.all(waits), Math.max(1, deadlineMs - Date.now()), 'registry lookup');
      }
    } catch (err) {
      this.#errors += 1;
      this.#opts.metrics?.registryLookups.inc({ result: 'error' });
      throw registryError('lookup', err);
    }
    this.#count(hits, distinct.size - hits);
    return result;
  }

  stats(): Record<string, unknown> {
    return {
      cacheEntries: this.#cache?.size ?? 0,
      cacheLive: this.live(),
      hits: this.#hits,
      misses: this.#misses,
      errors: this.#errors,
      inflight: this.#inflight.size,
      watch: this.#watch?.stats() ?? null,
    };
  }

  close(): void {
    this.#closed = true;
    this.#watch?.close();
    this.#cache?.reset();
  }

  /** Reads `userIds` from etcd, offering each snapshot to the cache; concurrent misses share it. */
  #read(userIds: string[], deadlineMs: number, into: Map<string, DeviceEntry[]>): Promise<void> {
    const cache = this.#cache;
    const tickets = new Map<string, ReadTicket>();
    if (cache) for (const u of userIds) tickets.set(u, cache.beginRead(u));
    const read = readUsers(this.#opts.etcd, this.keys, userIds, deadlineMs, this.#opts.logger).then(
      (snapshots) => {
        const byUser = new Map<string, DeviceEntry[]>();
        for (const s of snapshots) {
          byUser.set(s.userId, s.devices);
          const ticket = tickets.get(s.userId);
          if (cache && ticket) cache.completeRead(ticket, s.devices, s.revision);
        }
        return byUser;
      },
      (err: unknown) => {
        if (cache) for (const t of tickets.values()) cache.abandonRead(t);
        throw err;
      },
    );
    for (const userId of userIds) {
      const one = read.then((byUser) => byUser.get(userId) ?? []);
      this.#inflight.set(userId, one);
      const forget = () => {
        if (this.#inflight.get(userId) === one) this.#inflight.delete(userId);
      };
      void one.then(forget, forget);
    }
    return read.then((byUser) => {
      for (const [userId, devices] of byUser) into.set(userId, devices);
    });
  }

  #apply(cache: DeviceCache, events: readonly IEvent[]): void {
    for (const ev of events) {
      const id = this.keys.parseDeviceKey(ev.kv.key.toString('utf8'));
      if (!id) continue;
      // A put whose value this version cannot read leaves no usable device: treat as gone.
      const entry = String(ev.type).toUpperCase() === 'DELETE' ? undefined : decodeEntry(this.keys, ev.kv);
      cache.applyEvent({ ...id, revision: Number(ev.kv.mod_revision), entry });
    }
  }

  #count(hits: number, misses: number): void {
    this.#hits += hits;
    this.#misses += misses;
    if (hits > 0) this.#opts.metrics?.registryLookups.inc({ result: 'hit' }, hits);
    if (misses > 0) this.#opts.metrics?.registryLookups.inc({ result: 'miss' }, misses);
  }
}
