/**
 * route-group's cache of "does this group exist, how many members, is this sender one
 * of them", in front of GroupStore.membership (one query per miss).
 *
 * Freshness: every membership_change event of a group drops everything cached for it
 * (its count moved, and a member may have left); a gap in the event feed drops
 * everything (the feed calls clear()); and an answer is never served older than the
 * TTL, the safety net for an event that never came. A read that raced with an
 * invalidation is answered but not cached, so a removal is never undone by a late read.
 *
 * Member answers are stamped with their group's generation: invalidating a group is
 * O(1) — its generation changes and every member answer of the old one is ignored.
 */
import type { Metrics } from '../observability/metrics';
import { LruMap } from '../registry/lru';
import type { GroupStore, Membership } from './store';

export interface MembershipCacheOptions {
  readonly store: Pick<GroupStore, 'membership'>;
  readonly ttlMs: number;
  /** Entries kept (groups and members together); 0 disables caching. */
  readonly size: number;
  readonly metrics?: Pick<Metrics, 'groupCacheLookups'>;
  readonly clock?: () => number;
}

interface GroupEntry {
  readonly generation: number;
  /** undefined: the group does not exist. */
  readonly memberCount: number | undefined;
  readonly at: number;
}

interface MemberEntry {
  readonly generation: number;
  readonly isMember: boolean;
  readonly at: number;
}

export class MembershipCache {
  readonly #o: MembershipCacheOptions;
  readonly #clock: () => number;
  readonly #groups: LruMap<string, GroupEntry>;
  readonly #members: LruMap<string, MemberEntry>;
  /** Bumped by every invalidation; a read that saw it move is not cached. */
  #epoch = 0;
  #generation = 0;
  #invalidations = 0;

  constructor(opts: MembershipCacheOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? Date.now;
    this.#groups = new LruMap(Math.max(0, Math.ceil(opts.size / 8)));
    this.#members = new LruMap(Math.max(0, opts.size));
  }

  /** The sender's membership and the group's size; undefined when the group does not exist. */
  async check(groupId: string, userId: string): Promise<Membership | undefined> {
    const now = this.#clock();
    const group = this.#fresh(this.#groups.get(groupId), now);
    if (group) {
      if (group.memberCount === undefined) return this.#hit(undefined);
      const member = this.#fresh(this.#members.get(memberKey(groupId, userId)), now);
      if (member && member.generation === group.generation) {
        return this.#hit({ memberCount: group.memberCount, isMember: member.isMember });
      }
    }
    this.#o.metrics?.groupCacheLookups.inc({ result: 'miss' });
    const epoch = this.#epoch;
    const found = await this.#o.store.membership(groupId, userId);
    if (epoch === this.#epoch && this.#o.size > 0) this.#store(groupId, userId, found, group);
    return found;
  }

  /** A membership_change of `groupId` arrived: nothing cached about the group is used again. */
  invalidate(groupId: string): void {
    this.#epoch += 1;
    this.#invalidations += 1;
    this.#groups.delete(groupId);
  }

  /** The event feed had a gap (rejoin, crash): forget everything. */
  clear(): void {
    this.#epoch += 1;
    this.#groups.clear();
    this.#members.clear();
  }

  stats(): Record<string, number> {
    return { groups: this.#groups.size, members: this.#members.size, invalidations: this.#invalidations };
  }

  #hit(value: Membership | undefined): Membership | undefined {
    this.#o.metrics?.groupCacheLookups.inc({ result: 'hit' });
    return value;
  }

  #fresh<E extends { at: number }>(entry: E | undefined, now: number): E | undefined {
    return entry && now - entry.at < this.#o.ttlMs ? entry : undefined;
  }

  #store(groupId: string, userId: string, found: Membership | undefined, current: GroupEntry | undefined): void {
    const at = this.#clock();
    // Same count as the cached group entry: keep its generation, so its other member answers stay valid.
    const generation =
      current && current.memberCount === found?.memberCount ? current.generation : (this.#generation += 1);
    this.#groups.set(groupId, { generation, memberCount: found?.memberCount, at: current?.generation === generation ? current.at : at });
    if (found) this.#members.set(memberKey(groupId, userId), { generation, isMember: found.isMember, at });
  }
}

const memberKey = (groupId: string, userId: string): string => `${groupId}\n${userId}`;
