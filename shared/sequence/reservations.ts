/**
 * The durable half of hi/lo: `sequence_reservations` (conversation_id, reserved_until,
 * updated_at) in MySQL. reserved_until only ever grows, and Redis never issues a number
 * above a value committed here, so after any loss of Redis numbering resumes above it.
 *
 * Two operations:
 * - reserve: one autocommit statement advancing reserved_until by a block and
 *   returning the new value (LAST_INSERT_ID(expr) travels back in the OK packet, so no
 *   second round trip and no explicit transaction);
 * - recover: a transaction that reserves a block (which locks the row), lets the
 *   caller recreate the Redis state from the value before that block while the lock is
 *   held, then commits — or rolls back when the state was already there.
 */
import type { Pool, PoolConnection, ResultSetHeader } from 'mysql2/promise';

/** MySQL errors after which the same transaction may simply be run again. */
const RETRYABLE_SQL = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);
const RECOVER_ATTEMPTS = 3;

export interface RecoverResult {
  /** True when `init` recreated the Redis state and a block was reserved above it. */
  readonly created: boolean;
  /** reserved_until after the transaction (the new block's top when created). */
  readonly reservedUntil: number;
}

export class ReservationStore {
  readonly #pool: Pool;
  readonly #clock: () => number;

  constructor(pool: Pool, clock: () => number = Date.now) {
    this.#pool = pool;
    this.#clock = clock;
  }

  /**
   * Advances reserved_until to max(reserved_until, floor) + block and returns it,
   * committed. `floor` lets a caller lift a row that is behind Redis (e.g. a row
   * deleted by hand) in one step instead of block by block.
   */
  async reserve(conversationId: string, block: number, floor = 0): Promise<number> {
    const now = this.#clock();
    const [res] = await this.#pool.execute<ResultSetHeader>(
      `INSERT INTO sequence_reservations (conversation_id, reserved_until, updated_at)
       VALUES (?, LAST_INSERT_ID(? + ?), ?)
       ON DUPLICATE KEY UPDATE
         reserved_until = LAST_INSERT_ID(GREATEST(reserved_until, ?) + ?),
         updated_at = ?`,
      [conversationId, floor, block, now, floor, block, now],
    );
    return checkedValue(res.insertId, 'reserved_until');
  }

  /**
   * In one transaction: advances reserved_until by a block (creating the row if absent),
   * which locks the row; calls `init` with the value before the block, i.e. the
   * committed reserved_until; commits when `init` recreated the state, rolls back when
   * it found the state present. While the lock is held no reservation of this
   * conversation can commit, which is what makes the value handed to `init` an upper
   * bound of every number ever issued.
   */
  async recover(
    conversationId: string,
    block: number,
    init: (reservedUntil: number) => Promise<boolean>,
  ): Promise<RecoverResult> {
    for (let attempt = 1; ; attempt++) {
      const conn = await this.#pool.getConnection();
      try {
        return await this.#recoverOnce(conn, conversationId, block, init);
      } catch (err) {
        await conn.rollback().catch(() => undefined);
        const code = (err as { code?: unknown }).code;
        if (attempt >= RECOVER_ATTEMPTS || typeof code !== 'string' || !RETRYABLE_SQL.has(code)) throw err;
      } finally {
        conn.release();
      }
    }
  }

  async #recoverOnce(
    conn: PoolConnection,
    conversationId: string,
    block: number,
    init: (reservedUntil: number) => Promise<boolean>,
  ): Promise<RecoverResult> {
    const now = this.#clock();
    await conn.beginTransaction();
    // Reserves the block and takes the row's exclusive lock (creating the row if
    // absent); the increase stays invisible and revocable until the commit.
    const [res] = await conn.execute<ResultSetHeader>(
      `INSERT INTO sequence_reservations (conversation_id, reserved_until, updated_at)
       VALUES (?, LAST_INSERT_ID(?), ?)
       ON DUPLICATE KEY UPDATE reserved_until = LAST_INSERT_ID(reserved_until + ?), updated_at = ?`,
      [conversationId, block, now, block, now],
    );
    const reservedUntil = checkedValue(res.insertId, 'reserved_until');
    // The committed value before this transaction: an upper bound of every number issued.
    const created = await init(reservedUntil - block);
    if (!created) {
      await conn.rollback(); // someone else recovered it: give the block back
      return { created: false, reservedUntil: reservedUntil - block };
    }
    await conn.commit();
    return { created: true, reservedUntil };
  }
}

function checkedValue(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`unexpected ${what} ${String(value)}`);
  return value;
}
