/**
 * The users table: who exists (recipients are validated against it). Writes are
 * idempotent upserts; reads by id go through a small TTL cache owned by the caller.
 */
import type { Pool } from './mysql';
import type { RowDataPacket } from 'mysql2/promise';

export interface User {
  userId: string;
  displayName: string;
  createdAt: number;
}

export class UserStore {
  constructor(
    private readonly pool: Pool,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Creates the user, or updates the display name of an existing one. */
  async upsert(userId: string, displayName: string): Promise<{ user: User; created: boolean }> {
    const now = this.clock();
    let created = true;
    try {
      await this.pool.execute(
        'INSERT INTO users (user_id, display_name, created_at, updated_at) VALUES (?, ?, ?, ?)',
        [userId, displayName, now, now],
      );
    } catch (err) {
      if ((err as { code?: string }).code !== 'ER_DUP_ENTRY') throw err;
      created = false;
      await this.pool.execute(
        'UPDATE users SET display_name = ?, updated_at = ? WHERE user_id = ? AND display_name <> ?',
        [displayName, now, userId, displayName],
      );
    }
    const user = await this.get(userId);
    if (!user) throw new Error(`user ${userId} vanished after upsert`);
    return { user, created };
  }

  async get(userId: string): Promise<User | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>(
      'SELECT user_id, display_name, created_at FROM users WHERE user_id = ?',
      [userId],
    );
    const r = rows[0];
    return r ? { userId: r['user_id'], displayName: r['display_name'], createdAt: Number(r['created_at']) } : undefined;
  }

  /** Which of `userIds` exist (one query). */
  async existing(userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT user_id FROM users WHERE user_id IN (?)', [userIds]);
    return new Set(rows.map((r) => r['user_id'] as string));
  }
}
