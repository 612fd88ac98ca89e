/**
 * The group message log (`group_messages`): every group message stored once, keyed by
 * (group_id, sequence_number) and unique by msg_id, for 7 days (read diffusion: members
 * keep a read position in `group_read_positions`, nobody gets a per-member copy).
 *
 * - Appends are idempotent: `ON DUPLICATE KEY UPDATE msg_id = msg_id` makes a
 *   redelivered record a no-op, while a value the table cannot hold is still an error
 *   (the session is strict), unlike `INSERT IGNORE`, which would store a truncated row.
 * - Reads are range reads on the primary key: "the entries of a group after sequence
 *   s" is how a member catches up, and their count is the member's unread count.
 */
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { ImError } from '../errors';
import type { Pool } from './mysql';
import { classifyWriteError } from './write-errors';

export interface GroupLogEntry {
  readonly groupId: string;
  readonly sequenceNumber: number;
  readonly msgId: string;
  readonly senderId: string;
  /** The encoded im.events.v1.Content protobuf (plaintext or sealed). */
  readonly content: Buffer;
  /** JSON object text, or null when there is none. */
  readonly metadata: string | null;
  readonly clientTimestamp: number;
  readonly createdAt: number;
  readonly expiresAt: number;
}

const INSERT_SQL =
  'INSERT INTO group_messages (group_id, sequence_number, msg_id, sender_id, content, metadata, client_timestamp, ' +
  'created_at, expires_at) VALUES ? ON DUPLICATE KEY UPDATE msg_id = msg_id';

const STRICT_SQL = "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')";

const COLUMNS = 'group_id, sequence_number, msg_id, sender_id, content, metadata, client_timestamp, created_at, expires_at';

const toValues = (e: GroupLogEntry): unknown[] => [
  e.groupId,
  e.sequenceNumber,
  e.msgId,
  e.senderId,
  e.content,
  e.metadata,
  e.clientTimestamp,
  e.createdAt,
  e.expiresAt,
];

function toEntry(r: RowDataPacket): GroupLogEntry {
  return {
    groupId: r['group_id'] as string,
    sequenceNumber: Number(r['sequence_number']),
    msgId: r['msg_id'] as string,
    senderId: r['sender_id'] as string,
    content: r['content'] as Buffer,
    metadata: (r['metadata'] as string | null) ?? null,
    clientTimestamp: Number(r['client_timestamp']),
    createdAt: Number(r['created_at']),
    expiresAt: Number(r['expires_at']),
  };
}

export class GroupLog {
  constructor(
    private readonly pool: Pool,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Stores the entries (one statement); entries already stored are left as they are.
   * A row the table cannot hold is INVALID_PAYLOAD, anything else STORAGE_ERROR.
   */
  async append(entries: readonly GroupLogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    let conn: PoolConnection | undefined;
    try {
      conn = await this.pool.getConnection();
      await conn.query(STRICT_SQL);
      await conn.query<ResultSetHeader>(INSERT_SQL, [entries.map(toValues)]);
    } catch (err) {
      throw classifyWriteError(err, 'group log write');
    } finally {
      conn?.release();
    }
  }

  /** Entries of a group after `afterSeq`, oldest first, not yet expired (a catch-up page). */
  async range(groupId: string, afterSeq: number, limit: number): Promise<GroupLogEntry[]> {
    const rows = await this.#read<RowDataPacket[]>(
      `SELECT ${COLUMNS} FROM group_messages
       WHERE group_id = ? AND sequence_number > ? AND expires_at > ? ORDER BY sequence_number LIMIT ?`,
      [groupId, afterSeq, this.clock(), limit],
    );
    return rows.map(toEntry);
  }

  /** How many unexpired entries a group has after `afterSeq` (a member's unread count). */
  async countAfter(groupId: string, afterSeq: number): Promise<number> {
    const rows = await this.#read<RowDataPacket[]>(
      'SELECT COUNT(*) AS n FROM group_messages WHERE group_id = ? AND sequence_number > ? AND expires_at > ?',
      [groupId, afterSeq, this.clock()],
    );
    return Number(rows[0]?.['n'] ?? 0);
  }

  /** The highest sequence stored for a group (0 when none): where a new member starts reading. */
  async latest(groupId: string): Promise<number> {
    const rows = await this.#read<RowDataPacket[]>(
      'SELECT COALESCE(MAX(sequence_number), 0) AS s FROM group_messages WHERE group_id = ?',
      [groupId],
    );
    return Number(rows[0]?.['s'] ?? 0);
  }

  /** The entry of one msg_id, if stored. */
  async byMsgId(msgId: string): Promise<GroupLogEntry | undefined> {
    const rows = await this.#read<RowDataPacket[]>(`SELECT ${COLUMNS} FROM group_messages WHERE msg_id = ?`, [msgId]);
    return rows[0] ? toEntry(rows[0]) : undefined;
  }

  async #read<T extends RowDataPacket[]>(sql: string, args: unknown[]): Promise<T> {
    try {
      const [rows] = await this.pool.query<T>(sql, args);
      return rows;
    } catch (err) {
      throw new ImError('RETRIEVAL_ERROR', `group log read failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
