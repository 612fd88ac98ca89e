/**
 * What cleanup-expired may delete, table by table, as SQL that runs on MariaDB 10.11 and
 * MySQL 8. Each rule finds one bounded batch of primary keys, then deletes exactly those
 * keys while re-checking the expiry condition in the DELETE itself, so a row that is not
 * expired is never removed, whatever happens between the two statements.
 *
 * Select-then-delete-by-key rather than `DELETE ... ORDER BY ... LIMIT`: the latter is
 * refused for multi-table deletes, is unsafe for statement-based replication, and its
 * plan on the partitioned `offline_messages` differs between the two servers. Keys keep
 * every DELETE a short run of primary-key lookups.
 *
 * Deliberately NOT cleaned: `sequence_reservations`. A reservation is the high-water
 * mark of the numbers a conversation may already have used; deleting one would let a
 * later message of that conversation (after Redis loses its counter) be numbered from
 * scratch and repeat a sequence. A row per conversation is small and must live as long
 * as the conversation can be used again — i.e. forever.
 */
import type { RowDataPacket } from 'mysql2/promise';
import type { Pool } from './mysql';

export const CLEANUP_TABLES = ['offline_messages', 'group_messages', 'read_receipts', 'group_read_positions'] as const;
export type CleanupTable = (typeof CLEANUP_TABLES)[number];

/** The instants a run compares against, fixed once at its start. */
export interface Cutoffs {
  /** Rows with `expires_at` strictly below this are expired (the run's start). */
  readonly now: number;
  /** Receipts and orphaned read positions untouched since before this are obsolete. */
  readonly ttlAgo: number;
}

export function cutoffsAt(now: number, ttlMs: number): Cutoffs {
  return { now, ttlAgo: now - ttlMs };
}

/** One table's rule: find up to `limit` deletable keys, then delete those keys. */
export interface CleanupRule {
  readonly table: CleanupTable;
  /** Keys of at most `limit` deletable rows (empty: nothing left to do). */
  findBatch(cutoffs: Cutoffs, limit: number): Promise<BatchKeys>;
  /** Deletes the batch's rows that still qualify; returns how many went. */
  deleteBatch(keys: BatchKeys, cutoffs: Cutoffs): Promise<number>;
}

/** Primary keys of one batch, plus a resume point for rules that walk the table. */
export interface BatchKeys {
  readonly keys: readonly (readonly (string | number)[])[];
  /** How many rows the batch looked at (>= keys.length for walking rules). */
  readonly examined: number;
}

const affected = (res: unknown): number => (res as { affectedRows?: number }).affectedRows ?? 0;

/** `(a, b) IN ((?, ?), (?, ?))` for a batch of composite keys. */
function keyList(keys: BatchKeys['keys']): { sql: string; args: (string | number)[] } {
  const width = keys[0]?.length ?? 0;
  const tuple = `(${Array.from({ length: width }, () => '?').join(', ')})`;
  return { sql: keys.map(() => tuple).join(', '), args: keys.flat() };
}

/**
 * A rule for a table whose rows carry their own expiry (or a creation instant compared
 * with the TTL): the index on that column yields the oldest rows first.
 */
function expiringRule(
  pool: Pool,
  table: CleanupTable,
  keyColumns: readonly string[],
  condition: string,
  cutoff: (c: Cutoffs) => number,
  orderColumn: string,
): CleanupRule {
  const cols = keyColumns.join(', ');
  return {
    table,
    async findBatch(cutoffs, limit) {
      const [rows] = await pool.query<RowDataPacket[]>(
        `SELECT ${cols} FROM ${table} WHERE ${condition} ORDER BY ${orderColumn} LIMIT ?`,
        [cutoff(cutoffs), limit],
      );
      return { keys: rows.map((r) => keyColumns.map((c) => r[c] as string | number)), examined: rows.length };
    },
    async deleteBatch(batch, cutoffs) {
      if (batch.keys.length === 0) return 0;
      const list = keyList(batch.keys);
      const [res] = await pool.query(`DELETE FROM ${table} WHERE ${condition} AND (${cols}) IN (${list.sql})`, [
        cutoff(cutoffs),
        ...list.args,
      ]);
      return affected(res);
    },
  };
}

/**
 * Read positions of users who are no longer members of the group, untouched for a whole
 * TTL (so every message they pointed into has expired, and a join racing with the
 * cleanup cannot lose a fresh position). There is no index to find them, so the rule
 * walks the primary key from where its previous batch stopped; `examined` rows per batch
 * bound the work. A current member's position is never deleted: it is what makes later
 * messages unread.
 */
function orphanedPositionsRule(pool: Pool): CleanupRule {
  // (user_id, group_id) > (?, ?) spelled out: MariaDB does not use an index for row comparisons.
  const pastKey = (t: string) => `(${t}user_id > ? OR (${t}user_id = ? AND ${t}group_id > ?))`;
  let after: [string, string] | undefined;
  const orphan = `m.user_id IS NULL AND p.updated_at < ?`;
  const join = `group_read_positions p LEFT JOIN group_members m ON m.group_id = p.group_id AND m.user_id = p.user_id`;
  return {
    table: 'group_read_positions',
    async findBatch(cutoffs, limit) {
      const [window] = await pool.query<RowDataPacket[]>(
        `SELECT user_id, group_id FROM group_read_positions
         ${after ? `WHERE ${pastKey('')}` : ''} ORDER BY user_id, group_id LIMIT ?`,
        after ? [after[0], after[0], after[1], limit] : [limit],
      );
      const last = window[window.length - 1];
      if (!last) {
        after = undefined; // walked to the end; a later run starts over
        return { keys: [], examined: 0 };
      }
      const from = after;
      after = [last['user_id'] as string, last['group_id'] as string];
      const [rows] = await pool.query<RowDataPacket[]>(
        `SELECT p.user_id, p.group_id FROM ${join}
         WHERE ${orphan} AND NOT ${pastKey('p.')} ${from ? `AND ${pastKey('p.')}` : ''}`,
        [cutoffs.ttlAgo, after[0], after[0], after[1], ...(from ? [from[0], from[0], from[1]] : [])],
      );
      return { keys: rows.map((r) => [r['user_id'] as string, r['group_id'] as string]), examined: window.length };
    },
    async deleteBatch(batch, cutoffs) {
      if (batch.keys.length === 0) return 0;
      const list = keyList(batch.keys);
      const [res] = await pool.query(
        `DELETE p FROM ${join} WHERE ${orphan} AND (p.user_id, p.group_id) IN (${list.sql})`,
        [cutoffs.ttlAgo, ...list.args],
      );
      return affected(res);
    },
  };
}

/**
 * The rules in the order a run applies them: the big TTL tables first, so a run cut
 * short by CLEANUP_MAX_DURATION spends its time where the space is.
 *
 * Receipts: a receipt is written after its message, and a message lives MESSAGE_TTL from
 * its creation, so a receipt created more than a TTL ago belongs to an expired message.
 * (Receipts of messages deleted earlier by GDPR are removed by that delete itself.)
 */
export function cleanupRules(pool: Pool): CleanupRule[] {
  return [
    expiringRule(pool, 'offline_messages', ['id', 'user_id'], 'expires_at < ?', (c) => c.now, 'expires_at'),
    expiringRule(pool, 'group_messages', ['group_id', 'sequence_number'], 'expires_at < ?', (c) => c.now, 'expires_at'),
    expiringRule(pool, 'read_receipts', ['id'], 'created_at < ?', (c) => c.ttlAgo, 'created_at'),
    orphanedPositionsRule(pool),
  ];
}
