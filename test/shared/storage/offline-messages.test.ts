/**
 * The inbox write against real MariaDB, in a scratch database: idempotent multi-row
 * inserts with duplicates counted, batches split into several statements in one
 * transaction, rows the database refuses for their content isolated (the others are
 * written), and an unreachable database reported as retryable STORAGE_ERROR.
 */
import { OfflineMessageStore, insertedBy, splitStatements, type OfflineMessageRow } from '../../../shared/storage/offline-messages';
import { classifyWriteError, isLockConflict } from '../../../shared/storage/write-errors';
import { createMysqlPool } from '../../../shared/storage/mysql';
import { testConfig } from '../../support/env';
import { createScratchDb, rand, type ScratchDb } from '../../functions/persist-offline/support';

const config = testConfig();

const row = (run: string, i: number, over: Partial<OfflineMessageRow> = {}): OfflineMessageRow => ({
  userId: `${run}-u${i % 5}`,
  msgId: `${run}-m${i}`,
  senderId: 's',
  conversationType: 'private',
  conversationId: 'p:s:u',
  sequenceNumber: i,
  content: Buffer.from(`content ${i}`),
  metadata: i % 2 === 0 ? '{"k":"v"}' : null,
  clientTimestamp: 1,
  createdAt: 2,
  expiresAt: 3,
  ...over,
});

describe('OfflineMessageStore (real MariaDB)', () => {
  let db: ScratchDb;
  beforeAll(async () => {
    db = await createScratchDb(config.db);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('writes a batch once; a redelivery of it (and of a single row) is a counted no-op', async () => {
    const store = new OfflineMessageStore(db.pool);
    const run = rand();
    const rows = Array.from({ length: 50 }, (_, i) => row(run, i));
    expect(await store.write(rows)).toEqual({ inserted: 50, duplicates: 0, rejected: [] });
    expect(await store.write([...rows.slice(40), row(run, 50), row(run, 50)])).toEqual({
      inserted: 1,
      duplicates: 11,
      rejected: [],
    });
    expect(await store.write([row(run, 0)])).toEqual({ inserted: 0, duplicates: 1, rejected: [] });
    expect(await store.write([row(run, 51)])).toEqual({ inserted: 1, duplicates: 0, rejected: [] });
    const [stored] = await db.pool.query<import('mysql2').RowDataPacket[]>(
      'SELECT content, metadata FROM offline_messages WHERE user_id = ? AND msg_id = ?',
      [`${run}-u0`, `${run}-m0`],
    );
    expect(stored[0]?.['content']).toEqual(Buffer.from('content 0'));
    expect(stored[0]?.['metadata']).toBe('{"k":"v"}');
  });

  it('splits a large batch into several statements of one transaction', async () => {
    const store = new OfflineMessageStore(db.pool, { maxRows: 7, maxBytes: 1 << 20 });
    const run = rand();
    const rows = Array.from({ length: 30 }, (_, i) => row(run, i));
    expect(splitStatements(rows, { maxRows: 7, maxBytes: 1 << 20 }).map((s) => s.length)).toEqual([7, 7, 7, 7, 2]);
    expect(await store.write(rows)).toEqual({ inserted: 30, duplicates: 0, rejected: [] });
  });

  it('isolates the rows the database refuses and writes all the others', async () => {
    const store = new OfflineMessageStore(db.pool);
    const run = rand();
    const rows = Array.from({ length: 40 }, (_, i) =>
      i === 3 || i === 27 ? row(run, i, { userId: 'u'.repeat(200) }) : row(run, i),
    );
    const before = await db.count();
    const out = await store.write(rows);
    expect(out.inserted).toBe(38);
    expect(out.rejected.map((r) => r.row.msgId)).toEqual([`${run}-m3`, `${run}-m27`]);
    expect(out.rejected[0]?.error).toMatchObject({ code: 'INVALID_PAYLOAD', retryable: false, details: { errno: 1406 } });
    expect((await db.count()) - before).toBe(38);
  });

  it('re-runs a transaction that lost a deadlock at once, on the same connection, and writes it', async () => {
    const store = new OfflineMessageStore(db.pool);
    const run = rand();
    const [r1, r2] = [row(run, 1), row(run, 2)];
    // Another writer holds r1 (and, being heavier, is not the deadlock's victim).
    const other = await db.pool.getConnection();
    try {
      await other.query('START TRANSACTION');
      await other.query(
        'INSERT INTO offline_messages (user_id, msg_id, sender_id, conversation_type, conversation_id, sequence_number, ' +
          'content, metadata, client_timestamp, created_at, expires_at) VALUES ?',
        [[r1, ...Array.from({ length: 200 }, (_, i) => row(run, 1000 + i))].map((r) => [
          r.userId, r.msgId, r.senderId, r.conversationType, r.conversationId, r.sequenceNumber,
          r.content, r.metadata, r.clientTimestamp, r.createdAt, r.expiresAt,
        ])],
      );
      // The store inserts r2, then waits for r1's lock...
      const writing = store.write([r2, r1]);
      await new Promise((r) => setTimeout(r, 300));
      // ...and the other writer now wants r2: a deadlock, the store's transaction is rolled back.
      const otherWaits = other.query(
        'INSERT INTO offline_messages (user_id, msg_id, sender_id, conversation_type, conversation_id, sequence_number, ' +
          "content, metadata, client_timestamp, created_at, expires_at) VALUES (?, ?, 's', 'private', 'p:s:u', 2, 'x', NULL, 1, 2, 3)",
        [r2.userId, r2.msgId],
      );
      await otherWaits;
      await new Promise((r) => setTimeout(r, 100));
      await other.query('ROLLBACK');
      await expect(writing).resolves.toEqual({ inserted: 2, duplicates: 0, rejected: [] });
      expect(store.lockRetries).toBeGreaterThanOrEqual(1);
    } finally {
      other.release();
    }
  });

  it('reports an unreachable database as retryable STORAGE_ERROR', async () => {
    const pool = createMysqlPool({ ...config.db, host: '127.0.0.1', port: 1, connTimeoutMs: 1000 });
    try {
      await expect(new OfflineMessageStore(pool).write([row(rand(), 1)])).rejects.toMatchObject({
        code: 'STORAGE_ERROR',
        retryable: true,
      });
    } finally {
      await pool.end();
    }
  });

  it('classifies server errors by content versus availability', () => {
    expect(classifyWriteError({ errno: 1406, message: 'too long' }, 'w').code).toBe('INVALID_PAYLOAD');
    expect(classifyWriteError({ errno: 1213, message: 'deadlock' }, 'w')).toMatchObject({ code: 'STORAGE_ERROR', retryable: true });
    expect(isLockConflict({ errno: 1213 }) && isLockConflict({ errno: 1205 }) && !isLockConflict({ errno: 1406 })).toBe(true);
    expect(classifyWriteError({ code: 'ECONNREFUSED', message: 'refused' }, 'w').code).toBe('STORAGE_ERROR');
    expect(insertedBy({ info: 'Records: 10  Duplicates: 4  Warnings: 0', insertId: 1, affectedRows: 14 }, 10)).toBe(6);
  });
});
