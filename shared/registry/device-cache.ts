/**
 * The router's local copy of "user -> devices", and every rule that keeps it from
 * serving an answer the registry never held.
 *
 * It is fed by two sources that race: snapshot reads (one user's devices as of etcd
 * revision R) and watch events (one key's change at revision E, in revision order).
 * The rules:
 *  - Each cached user remembers `asOf`, the revision its devices are exact for. An event
 *    with E <= asOf is already reflected and skipped; E > asOf is applied and moves asOf.
 *    A user cached with no devices is an entry too, so a later put reaches it.
 *  - A snapshot is cached only if nothing it could have missed is lost: the feed is live,
 *    no reset happened since the read began, R is at or after the feed's floor (the
 *    revision after which the watch delivers every event), and no event newer than R
 *    for that user was applied while the read was in flight (it would have been dropped,
 *    the user not being cached yet).
 *  - While the feed is not live (watch broken), nothing is served; entries are kept,
 *    because a resumed watch replays what they missed. A reset (compaction, cancelled
 *    watch) forgets everything.
 * Pure and synchronous: tested with fast-check against a model of etcd.
 */
import { LruMap } from './lru';
import type { DeviceEntry } from './record';

/** A change seen on the watch: `entry` for a put, undefined for a delete. */
export interface DeviceEvent {
  readonly userId: string;
  readonly deviceId: string;
  readonly revision: number;
  readonly entry: DeviceEntry | undefined;
}

/** Held by a read in flight; hand it back to `completeRead` or `abandonRead`. */
export interface ReadTicket {
  readonly userId: string;
  readonly epoch: number;
}

interface CachedUser {
  asOf: number;
  readonly devices: Map<string, DeviceEntry>;
}

interface PendingReads {
  readers: number;
  /** Newest event revision seen for this user while a read was in flight. */
  maxEventRevision: number;
}

export class DeviceCache {
  readonly #users: LruMap<string, CachedUser>;
  readonly #pending = new Map<string, PendingReads>();
  #epoch = 0;
  #live = false;
  #floor = Number.POSITIVE_INFINITY;

  constructor(capacity: number) {
    this.#users = new LruMap(capacity);
  }

  get size(): number {
    return this.#users.size;
  }

  get live(): boolean {
    return this.#live;
  }

  /** The watch is delivering every event after `floor`; cached answers may be served. */
  markLive(floor: number): void {
    this.#live = true;
    this.#floor = floor;
  }

  /** The watch broke but will resume where it stopped: keep entries, serve none. */
  markStale(): void {
    this.#live = false;
  }

  /** The watch cannot resume (compaction, cancellation): forget everything. */
  reset(): void {
    this.#users.clear();
    this.#pending.clear();
    this.#epoch += 1;
    this.#live = false;
    this.#floor = Number.POSITIVE_INFINITY;
  }

  /** The user's devices if cached and servable ([] is a cached "none"), else undefined. */
  get(userId: string): DeviceEntry[] | undefined {
    if (!this.#live) return undefined;
    const user = this.#users.get(userId);
    return user ? [...user.devices.values()] : undefined;
  }

  applyEvent(event: DeviceEvent): void {
    const pending = this.#pending.get(event.userId);
    if (pending) pending.maxEventRevision = Math.max(pending.maxEventRevision, event.revision);
    const user = this.#users.peek(event.userId);
    if (!user || event.revision <= user.asOf) return;
    if (event.entry) user.devices.set(event.deviceId, event.entry);
    else user.devices.delete(event.deviceId);
    user.asOf = event.revision;
  }

  beginRead(userId: string): ReadTicket {
    const pending = this.#pending.get(userId);
    if (pending) pending.readers += 1;
    else this.#pending.set(userId, { readers: 1, maxEventRevision: 0 });
    return { userId, epoch: this.#epoch };
  }

  /** Offers a snapshot read at `revision`; returns whether it was cached. */
  completeRead(ticket: ReadTicket, devices: readonly DeviceEntry[], revision: number): boolean {
    const pending = this.#release(ticket);
    if (!this.#live || ticket.epoch !== this.#epoch || revision < this.#floor) return false;
    if (pending && pending.maxEventRevision > revision) return false;
    const current = this.#users.peek(ticket.userId);
    if (current && current.asOf >= revision) return false;
    this.#users.set(ticket.userId, {
      asOf: revision,
      devices: new Map(devices.map((d) => [d.deviceId, d])),
    });
    return true;
  }

  abandonRead(ticket: ReadTicket): void {
    this.#release(ticket);
  }

  #release(ticket: ReadTicket): PendingReads | undefined {
    if (ticket.epoch !== this.#epoch) return undefined;
    const pending = this.#pending.get(ticket.userId);
    if (!pending) return undefined;
    pending.readers -= 1;
    if (pending.readers === 0) this.#pending.delete(ticket.userId);
    return pending;
  }
}
