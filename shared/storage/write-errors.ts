/**
 * Classifies a MySQL/MariaDB write failure: the server rejected the row's content
 * (too long, wrong value, NULL in a NOT NULL column, no partition for it…) — the same
 * row will fail forever, so it is INVALID_PAYLOAD (dead-letter) — or anything else
 * (connection refused or lost, lock wait, deadlock, read-only, too many connections),
 * which may pass on a retry and is STORAGE_ERROR.
 */
import { ImError } from '../errors';

/** Server error numbers meaning "this data can never be written" (same on MySQL 8 and MariaDB). */
export const CONTENT_ERRNOS: ReadonlySet<number> = new Set([
  1048, // ER_BAD_NULL_ERROR
  1264, // ER_WARN_DATA_OUT_OF_RANGE
  1265, // WARN_DATA_TRUNCATED
  1292, // ER_TRUNCATED_WRONG_VALUE
  1300, // ER_INVALID_CHARACTER_STRING
  1366, // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
  1406, // ER_DATA_TOO_LONG
  1452, // ER_NO_REFERENCED_ROW_2
  1526, // ER_NO_PARTITION_FOR_GIVEN_VALUE
  3819, // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
  4025, // ER_CONSTRAINT_FAILED (MariaDB)
]);

/**
 * Lock conflicts between concurrent writers (same numbers on MySQL 8 and MariaDB): the
 * server rolled the transaction (deadlock) or the statement (lock wait timeout) back and
 * the same write may succeed at once; never a reason to dead-letter.
 */
export const LOCK_CONFLICT_ERRNOS: ReadonlySet<number> = new Set([
  1205, // ER_LOCK_WAIT_TIMEOUT
  1213, // ER_LOCK_DEADLOCK
]);

interface SqlErrorLike {
  errno?: number;
  code?: string;
  sqlState?: string;
  message?: string;
}

export function isContentError(err: unknown): boolean {
  const e = err as SqlErrorLike | null;
  return typeof e?.errno === 'number' && CONTENT_ERRNOS.has(e.errno);
}

export function isLockConflict(err: unknown): boolean {
  const e = err as SqlErrorLike | null;
  return typeof e?.errno === 'number' && LOCK_CONFLICT_ERRNOS.has(e.errno);
}

/** Wraps a driver error as the product error a consumer acts on. */
export function classifyWriteError(err: unknown, what: string): ImError {
  if (err instanceof ImError) return err;
  const e = err as SqlErrorLike | null;
  const detail = { errno: e?.errno, sqlCode: e?.code };
  if (isContentError(err)) {
    return new ImError('INVALID_PAYLOAD', `${what} rejected by the database: ${e?.message ?? String(err)}`, {
      cause: err,
      details: detail,
    });
  }
  return new ImError('STORAGE_ERROR', `${what} failed: ${e?.message ?? String(err)}`, { cause: err, details: detail });
}
