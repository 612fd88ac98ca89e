/**
 * One cleanup run at a time across every process that shares the database (CronJob
 * pods, the all-in-one local process): a MySQL named lock (GET_LOCK), held on a
 * dedicated connection for the whole run. The server frees it when that connection
 * ends, so a crashed run can never leave it stuck.
 */
import type { PoolConnection, RowDataPacket } from 'mysql2/promise';
import type { Pool } from './mysql';

/** A held lock; `release()` is idempotent and never throws. */
export interface HeldLock {
  readonly name: string;
  release(): Promise<void>;
}

/**
 * The lock is named per database: GET_LOCK is server-wide, and two installations (or
 * two test databases) on one server must not block each other. MySQL 8 caps lock names
 * at 64 characters.
 */
export const cleanupLockName = (database: string): string => `im_cleanup:${database}`.slice(0, 64);

/** Takes the lock without waiting; undefined when another run holds it. */
export async function tryCleanupLock(pool: Pool, database: string): Promise<HeldLock | undefined> {
  const name = cleanupLockName(database);
  const conn: PoolConnection = await pool.getConnection();
  try {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS got', [name]);
    if (Number(rows[0]?.['got']) !== 1) {
      conn.release();
      return undefined;
    }
  } catch (err) {
    conn.destroy();
    throw err;
  }
  let released = false;
  return {
    name,
    async release() {
      if (released) return;
      released = true;
      try {
        await conn.query('SELECT RELEASE_LOCK(?)', [name]);
        conn.release();
      } catch {
        conn.destroy(); // closing the session frees the lock too
      }
    },
  };
}
