/**
 * The groups and their members in MySQL (`groups`, `group_members`), and the read
 * position a member starts with. The one writer of these tables in this project is the
 * admin API (the user service may write them too; both then publish membership_change).
 *
 * - Membership changes of one group are serialised on the group's row lock, so
 *   `member_count` moves by exactly the rows inserted or deleted: adding a member twice
 *   or removing an absent one changes nothing (idempotent calls, exact counts).
 * - A member who joins starts reading at the group's latest logged sequence: they do not
 *   "inherit" the history as unread (docs/groups.md). Re-joining resets the position.
 * - Members are read in pages by primary key (group_id, user_id), so fanout never holds
 *   a large group's member list in memory.
 */
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { ImError } from '../errors';
import type { Pool } from '../storage/mysql';

export const MEMBER_ROLES = ['owner', 'admin', 'member'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

export interface GroupInfo {
  readonly groupId: string;
  readonly name: string;
  readonly creatorId: string;
  readonly memberCount: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface NewMember {
  readonly userId: string;
  readonly role: MemberRole;
}

/** What route-group needs to know about a sender and a group, in one round trip. */
export interface Membership {
  readonly memberCount: number;
  readonly isMember: boolean;
}

export interface MembershipDelta {
  /** Users whose membership this call changed (in the order given). */
  readonly changed: string[];
  readonly memberCount: number;
}

/** Rows per multi-row statement. */
const CHUNK = 1000;

const chunks = <T>(items: readonly T[]): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
};

function toGroup(r: RowDataPacket): GroupInfo {
  return {
    groupId: r['group_id'] as string,
    name: r['name'] as string,
    creatorId: r['creator_id'] as string,
    memberCount: Number(r['member_count']),
    createdAt: Number(r['created_at']),
    updatedAt: Number(r['updated_at']),
  };
}

const readError = (err: unknown, what: string): ImError =>
  err instanceof ImError ? err : new ImError('RETRIEVAL_ERROR', `${what} failed: ${(err as Error).message}`, { cause: err });

const writeError = (err: unknown, what: string): ImError =>
  err instanceof ImError ? err : new ImError('STORAGE_ERROR', `${what} failed: ${(err as Error).message}`, { cause: err });

export class GroupStore {
  constructor(
    private readonly pool: Pool,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(groupId: string): Promise<GroupInfo | undefined> {
    try {
      const [rows] = await this.pool.query<RowDataPacket[]>(
        'SELECT group_id, name, creator_id, member_count, created_at, updated_at FROM `groups` WHERE group_id = ?',
        [groupId],
      );
      return rows[0] ? toGroup(rows[0]) : undefined;
    } catch (err) {
      throw readError(err, 'group read');
    }
  }

  /** The group's member count and whether `userId` is a member; undefined when the group does not exist. */
  async membership(groupId: string, userId: string): Promise<Membership | undefined> {
    try {
      const [rows] = await this.pool.query<RowDataPacket[]>(
        'SELECT g.member_count, m.user_id FROM `groups` g ' +
          'LEFT JOIN group_members m ON m.group_id = g.group_id AND m.user_id = ? WHERE g.group_id = ?',
        [userId, groupId],
      );
      const r = rows[0];
      return r ? { memberCount: Number(r['member_count']), isMember: r['user_id'] !== null } : undefined;
    } catch (err) {
      throw readError(err, 'membership read');
    }
  }

  /** Up to `limit` member ids after `afterUserId` (exclusive), in primary-key order. */
  async pageMembers(groupId: string, afterUserId: string | undefined, limit: number): Promise<string[]> {
    try {
      const [rows] = await this.pool.query<RowDataPacket[]>(
        afterUserId === undefined
          ? 'SELECT user_id FROM group_members WHERE group_id = ? ORDER BY user_id LIMIT ?'
          : 'SELECT user_id FROM group_members WHERE group_id = ? AND user_id > ? ORDER BY user_id LIMIT ?',
        afterUserId === undefined ? [groupId, limit] : [groupId, afterUserId, limit],
      );
      return rows.map((r) => r['user_id'] as string);
    } catch (err) {
      throw readError(err, 'member page read');
    }
  }

  /**
   * Creates the group with its creator as owner. Idempotent: an existing group is left
   * as it is (`created: false`), and its creator's membership is (re)ensured.
   */
  async create(group: { groupId: string; name: string; creatorId: string }): Promise<{ group: GroupInfo; created: boolean }> {
    const now = this.clock();
    let created = true;
    try {
      await this.pool.query(
        'INSERT INTO `groups` (group_id, name, creator_id, member_count, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)',
        [group.groupId, group.name, group.creatorId, now, now],
      );
    } catch (err) {
      if ((err as { code?: string }).code !== 'ER_DUP_ENTRY') throw writeError(err, 'group create');
      created = false;
    }
    const existing = await this.get(group.groupId);
    if (!existing) throw new ImError('STORAGE_ERROR', `group ${group.groupId} vanished after create`);
    await this.addMembers(group.groupId, [{ userId: existing.creatorId, role: 'owner' }]);
    const info = await this.get(group.groupId);
    return { group: info ?? existing, created };
  }

  /**
   * Adds members (existing ones keep their role) and starts each new member's read
   * position at the group's latest logged sequence. NOT_FOUND for an unknown group.
   */
  async addMembers(groupId: string, members: readonly NewMember[]): Promise<MembershipDelta> {
    const distinct = [...new Map(members.map((m) => [m.userId, m] as const)).values()];
    return this.#inGroupTx(groupId, 'member add', async (conn, now) => {
      const present = await existingMembers(conn, groupId, distinct.map((m) => m.userId));
      const fresh = distinct.filter((m) => !present.has(m.userId));
      if (fresh.length === 0) return [];
      const [latestRows] = await conn.query<RowDataPacket[]>(
        'SELECT COALESCE(MAX(sequence_number), 0) AS s FROM group_messages WHERE group_id = ?',
        [groupId],
      );
      const latest = Number(latestRows[0]?.['s'] ?? 0);
      for (const part of chunks(fresh)) {
        await conn.query('INSERT INTO group_members (group_id, user_id, role, joined_at) VALUES ?', [
          part.map((m) => [groupId, m.userId, m.role, now]),
        ]);
        await conn.query(
          'INSERT INTO group_read_positions (user_id, group_id, read_seq, updated_at) VALUES ? ' +
            'ON DUPLICATE KEY UPDATE read_seq = GREATEST(read_seq, VALUES(read_seq)), updated_at = VALUES(updated_at)',
          [part.map((m) => [m.userId, groupId, latest, now])],
        );
      }
      return fresh.map((m) => m.userId);
    });
  }

  /** Removes members; absent ones are ignored. Read positions stay (cleanup-expired ages them out). */
  async removeMembers(groupId: string, userIds: readonly string[]): Promise<MembershipDelta> {
    const distinct = [...new Set(userIds)];
    return this.#inGroupTx(groupId, 'member removal', async (conn) => {
      const present = await existingMembers(conn, groupId, distinct);
      const gone = distinct.filter((u) => present.has(u));
      for (const part of chunks(gone)) {
        await conn.query('DELETE FROM group_members WHERE group_id = ? AND user_id IN (?)', [groupId, part]);
      }
      return gone;
    });
  }

  /**
   * Runs `work` holding the group's row lock and moves member_count by the size of the
   * change it reports (+ for adds, − for removals, told apart by `what`).
   */
  async #inGroupTx(
    groupId: string,
    what: 'member add' | 'member removal',
    work: (conn: PoolConnection, now: number) => Promise<string[]>,
  ): Promise<MembershipDelta> {
    let conn: PoolConnection | undefined;
    try {
      conn = await this.pool.getConnection();
      await conn.beginTransaction();
      const [locked] = await conn.query<RowDataPacket[]>(
        'SELECT member_count FROM `groups` WHERE group_id = ? FOR UPDATE',
        [groupId],
      );
      if (!locked[0]) throw new ImError('NOT_FOUND', `group ${groupId} does not exist`, { details: { field: 'group_id' } });
      const now = this.clock();
      const changed = await work(conn, now);
      const delta = what === 'member add' ? changed.length : -changed.length;
      if (delta !== 0) {
        await conn.query<ResultSetHeader>(
          'UPDATE `groups` SET member_count = GREATEST(0, member_count + ?), updated_at = ? WHERE group_id = ?',
          [delta, now, groupId],
        );
      }
      await conn.commit();
      return { changed, memberCount: Math.max(0, Number(locked[0]['member_count']) + delta) };
    } catch (err) {
      await conn?.rollback().catch(() => undefined);
      throw writeError(err, what);
    } finally {
      conn?.release();
    }
  }
}

async function existingMembers(conn: PoolConnection, groupId: string, userIds: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const part of chunks(userIds)) {
    const [rows] = await conn.query<RowDataPacket[]>(
      'SELECT user_id FROM group_members WHERE group_id = ? AND user_id IN (?)',
      [groupId, part],
    );
    for (const r of rows) found.add(r['user_id'] as string);
  }
  return found;
}
