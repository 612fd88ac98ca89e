/**
 * The write side of the offline inbox (`offline_messages`): one idempotent multi-row
 * INSERT per batch, unique on (user_id, msg_id), so a redelivered record is a no-op and
 * never fails its batch.
 *
 * - `ON DUPLICATE KEY UPDATE msg_id = msg_id`, not `INSERT IGNORE`: IGNORE also turns data
 *   errors (too long, bad value) into warnings and silently stores truncated rows; here
 *   only the duplicate key is tolerated, and the session is made strict so a bad value
 *   is an error on any server configuration. The no-op assignment names msg_id (part of
 *   the key that collided, so equal by definition), not the AUTO_INCREMENT id: MySQL 8
 *   refuses `id = id` with error 1869 when the row hit was inserted by the same statement
 *   (a msg_id twice in one batch); MariaDB accepts both (docs/mysql8.md).
 * - Duplicates are counted from the server's "Records: n  Duplicates: d" info (multi-row
 *   statements) or the insert id (single row), whatever the client's FOUND_ROWS flag.
 * - A batch too large for one packet is several statements inside one transaction.
 * - A lock conflict with another writer (deadlock, lock wait timeout: concurrent
 *   transactions of this consumer, another replica during a rebalance, the cleanup job)
 *   is retried at once on the same connection, a few times, before it is reported as
 *   STORAGE_ERROR (retryable: the consumer's backoff then takes over, nothing is
 *   dead-lettered).
 * - When the database rejects the batch for a row's content, the batch is bisected
 *   (each half in its own transaction) so only the poison row(s) are rejected and every
 *   other row is written; a transient error aborts and the caller retries everything.
 */
import type { PoolConnection, ResultSetHeader } from 'mysql2/promise';
import { ImError } from '../errors';
import { isolate } from '../bus/isolate';
import { sleep } from '../runtime/timeout';
import type { Pool } from './mysql';
import { classifyWriteError, isLockConflict } from './write-errors';

export interface OfflineMessageRow {
  readonly userId: string;
  readonly msgId: string;
  readonly senderId: string;
  readonly conversationType: string;
  readonly conversationId: string;
  readonly sequenceNumber: number;
  /** The encoded im.events.v1.Content protobuf (plaintext or sealed). */
  readonly content: Buffer;
  /** JSON object text, or null when there is none. */
  readonly metadata: string | null;
  readonly clientTimestamp: number;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface WriteOutcome {
  readonly inserted: number;
  readonly duplicates: number;
  /** Rows the database refused for their content (INVALID_PAYLOAD), each isolated. */
  readonly rejected: { row: OfflineMessageRow; error: ImError }[];
}

export interface StatementLimits {
  readonly maxRows: number;
  /** Approximate payload bytes per statement (max_allowed_packet is 16–64 MiB). */
  readonly maxBytes: number;
}

const DEFAULT_LIMITS: StatementLimits = { maxRows: 2000, maxBytes: 4 * 1024 * 1024 };

/** Immediate re-runs of a transaction that lost a lock conflict (the winner holds its locks for milliseconds). */
export const LOCK_CONFLICT_RETRIES = 4;

const INSERT_SQL =
  'INSERT INTO offline_messages (user_id, msg_id, sender_id, conversation_type, conversation_id, sequence_number, ' +
  'content, metadata, client_timestamp, created_at, expires_at) VALUES ? ON DUPLICATE KEY UPDATE msg_id = msg_id';

/**
 * Once per connection: strict mode (a bad value is an error, never a truncated row), and
 * a lock wait bounded well below the handler's timeout (the server's default is 50 s):
 * an insert that waits that long is stuck behind a foreign transaction, and is better
 * re-run than left waiting.
 */
const SESSION_SQL =
  "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES'), " +
  'innodb_lock_wait_timeout = 5';

const toValues = (r: OfflineMessageRow): unknown[] => [
  r.userId,
  r.msgId,
  r.senderId,
  r.conversationType,
  r.conversationId,
  r.sequenceNumber,
  r.content,
  r.metadata,
  r.clientTimestamp,
  r.createdAt,
  r.expiresAt,
];

const rowBytes = (r: OfflineMessageRow): number =>
  // content is sent as X'…' hex, strings escaped; 128 covers numbers and punctuation.
  2 * r.content.length +
  r.userId.length +
  r.msgId.length +
  r.senderId.length +
  r.conversationType.length +
  r.conversationId.length +
  (r.metadata?.length ?? 0) +
  128;

/** Cuts rows into statements within the row and byte limits (each holds at least one row). */
export function splitStatements<T extends OfflineMessageRow>(rows: readonly T[], limits: StatementLimits): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const row of rows) {
    const b = rowBytes(row);
    if (current.length > 0 && (current.length >= limits.maxRows || bytes + b > limits.maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(row);
    bytes += b;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** How many rows of one statement were new; the rest hit (user_id, msg_id). */
export function insertedBy(result: Pick<ResultSetHeader, 'info' | 'insertId' | 'affectedRows'>, rows: number): number {
  const dup = /Duplicates:\s*(\d+)/.exec(result.info ?? '');
  if (dup) return Math.max(0, rows - Number(dup[1]));
  if (rows === 1) return result.insertId > 0 ? 1 : 0;
  return rows;
}

export class OfflineMessageStore {
  /** Connections already given SESSION_SQL (keyed by the driver's connection). */
  readonly #strict = new WeakSet<object>();
  /** Transactions re-run after a lock conflict (deadlock, lock wait timeout). */
  lockRetries = 0;

  constructor(
    private readonly pool: Pool,
    private readonly limits: StatementLimits = DEFAULT_LIMITS,
  ) {}

  /**
   * Writes the rows idempotently. Resolves once every row not in `rejected` is durable
   * (new or already there); throws STORAGE_ERROR (retryable) when the database is
   * unavailable, with possibly some halves written — harmless, a retry skips them.
   */
  async write(rows: readonly OfflineMessageRow[]): Promise<WriteOutcome> {
    if (rows.length === 0) return { inserted: 0, duplicates: 0, rejected: [] };
    const { results, failed } = await isolate(
      rows,
      (subset) => this.#writeTransaction(subset),
      (err) => err instanceof ImError && !err.retryable,
    );
    const inserted = results.reduce((n, r) => n + r, 0);
    const rejected = failed.map(({ item, error }) => ({ row: item, error: error as ImError }));
    return { inserted, duplicates: rows.length - rejected.length - inserted, rejected };
  }

  /** One transaction; returns how many rows were new. */
  async #writeTransaction(rows: readonly OfflineMessageRow[]): Promise<number> {
    let conn: PoolConnection;
    try {
      conn = await this.pool.getConnection();
    } catch (err) {
      throw new ImError('STORAGE_ERROR', `database unavailable: ${(err as Error).message}`, { cause: err });
    }
    const statements = splitStatements(rows, this.limits);
    const explicit = statements.length > 1;
    let healthy = true;
    try {
      if (!this.#strict.has(conn.connection)) {
        await conn.query(SESSION_SQL);
        this.#strict.add(conn.connection);
      }
      for (let attempt = 0; ; attempt++) {
        try {
          if (explicit) await conn.query('START TRANSACTION');
          let inserted = 0;
          for (const s of statements) {
            const [result] = await conn.query<ResultSetHeader>(INSERT_SQL, [s.map(toValues)]);
            inserted += insertedBy(result, s.length);
          }
          if (explicit) await conn.query('COMMIT');
          this.lockRetries += attempt;
          return inserted;
        } catch (err) {
          // A deadlock rolled the whole transaction back; a lock wait timeout only the
          // statement: roll back either way, so a re-run starts from nothing.
          if (explicit) await conn.query('ROLLBACK').catch(() => undefined);
          if (!isLockConflict(err) || attempt >= LOCK_CONFLICT_RETRIES) throw err;
          // A few ms, jittered, so the two losers of a conflict do not meet again.
          await sleep(1 + Math.random() * 4 * (attempt + 1));
        }
      }
    } catch (err) {
      const e = classifyWriteError(err, 'offline messages write');
      // After a connection failure it may be half-dead: do not pool it again (a lock
      // conflict leaves it healthy).
      healthy = !e.retryable || isLockConflict(err);
      throw e;
    } finally {
      if (healthy) conn.release();
      else conn.destroy();
    }
  }
}
