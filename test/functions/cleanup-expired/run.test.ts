/**
 * One cleanup run against a real MariaDB (a throwaway database): what is deleted, what
 * never is (rows on both sides of every boundary, rows written during the run), batches,
 * the time bound, the one-run-at-a-time lock, metrics and the report.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { createMetrics } from '../../../shared/observability/metrics';
import { tryCleanupLock } from '../../../shared/storage/cleanup-lock';
import { runCleanup, type CleanupSettings } from '../../../functions/cleanup-expired/run';
import { eventually, testLogger, uid } from '../../support/env';
import { createThrowawayDb, type ThrowawayDb } from './throwaway-db';
import { count, groupLogRow, inboxRow, msgIds, positionRow, receiptRow, reservationRow } from './rows';

const NOW = 1_900_000_000_000;
const TTL = 7 * 24 * 3_600_000;
let db: ThrowawayDb;

beforeAll(async () => {
  db = await createThrowawayDb();
});
afterAll(async () => {
  await db.drop();
});
beforeEach(async () => {
  for (const t of ['offline_messages', 'group_messages', 'read_receipts', 'group_read_positions', 'group_members']) {
    await db.pool.query(`DELETE FROM ${t}`);
  }
});

const settings = (over: Partial<CleanupSettings> = {}): CleanupSettings => ({
  batchSize: 1000,
  pauseMs: 0,
  maxDurationMs: 60_000,
  ttlMs: TTL,
  database: db.name,
  ...over,
});
const ports = (clock: () => number = () => NOW) => ({ pool: db.pool, clock, logger: testLogger(), metrics: createMetrics() });

describe('runCleanup', () => {
  it('deletes exactly the rows past their TTL, on both sides of every boundary', async () => {
    // Prepare
    const inboxGone = [await inboxRow(db.pool, NOW - 1), await inboxRow(db.pool, NOW - TTL)];
    const inboxKept = [await inboxRow(db.pool, NOW), await inboxRow(db.pool, NOW + 1), await inboxRow(db.pool, NOW + TTL)];
    const logGone = [await groupLogRow(db.pool, NOW - 1)];
    const logKept = [await groupLogRow(db.pool, NOW), await groupLogRow(db.pool, NOW + 1)];
    const receiptGone = [await receiptRow(db.pool, NOW - TTL - 1)];
    const receiptKept = [await receiptRow(db.pool, NOW - TTL), await receiptRow(db.pool, NOW - 1)];
    const g = uid('g');
    await positionRow(db.pool, 'left-long-ago', g, NOW - TTL - 1, false);
    await positionRow(db.pool, 'left-recently', g, NOW - TTL, false);
    await positionRow(db.pool, 'member-idle', g, NOW - TTL - 1, true);
    const conv = uid('c');
    await reservationRow(db.pool, conv, 1);

    // Act
    const p = ports();
    const report = await runCleanup(p, settings());

    // Assess
    expect(report).toMatchObject({
      outcome: 'complete',
      cutoff: NOW,
      deleted: { offline_messages: 2, group_messages: 1, read_receipts: 1, group_read_positions: 1 },
    });
    expect(await msgIds(db.pool, 'offline_messages')).toEqual([...inboxKept].sort());
    expect(await msgIds(db.pool, 'group_messages')).toEqual([...logKept].sort());
    expect(await msgIds(db.pool, 'read_receipts')).toEqual([...receiptKept].sort());
    const [pos] = await db.pool.query<RowDataPacket[]>('SELECT user_id FROM group_read_positions ORDER BY user_id');
    expect(pos.map((r) => r['user_id'])).toEqual(['left-recently', 'member-idle']);
    const [res] = await db.pool.query<RowDataPacket[]>('SELECT reserved_until FROM sequence_reservations WHERE conversation_id = ?', [conv]);
    expect(res).toHaveLength(1); // reservations are never cleaned: numbers must not repeat
    expect(inboxGone.length + logGone.length + receiptGone.length).toBe(4);
    const text = await p.metrics.registry.metrics();
    expect(text).toContain('im_service_cleanup_deleted_total{table="offline_messages"} 2');
    expect(text).toContain('im_service_cleanup_deleted_total{table="group_read_positions"} 1');
    expect(text).toContain('im_service_cleanup_runs_total{outcome="complete"} 1');
  });

  it('works in bounded batches until nothing expired is left', async () => {
    for (let i = 0; i < 7; i++) await inboxRow(db.pool, NOW - 1 - i);
    const kept = await inboxRow(db.pool, NOW + 5);
    const g = uid('g');
    for (let i = 0; i < 5; i++) await positionRow(db.pool, `u${i}`, g, NOW - TTL - 1, i % 2 === 0);

    const report = await runCleanup(ports(), settings({ batchSize: 2 }));

    expect(report.outcome).toBe('complete');
    expect(report.deleted.offline_messages).toBe(7);
    expect(report.deleted.group_read_positions).toBe(2); // u1, u3: found while walking in windows of 2
    expect(report.batches).toBeGreaterThanOrEqual(4 + 3);
    expect(await msgIds(db.pool, 'offline_messages')).toEqual([kept]);
    expect(await count(db.pool, 'group_read_positions')).toBe(3);
  });

  it('never deletes a row written during the run', async () => {
    for (let i = 0; i < 4; i++) await inboxRow(db.pool, Date.now() - 10_000 - i);
    const p = ports(Date.now);
    const run = runCleanup(p, settings({ batchSize: 1, pauseMs: 150 }));
    await eventually(async () => (await count(db.pool, 'offline_messages')) <= 3, 5000, 10);
    // written mid-run: one fresh, one that expires after the run's cut-off but before it ends
    const fresh = await inboxRow(db.pool, Date.now() + TTL);
    const soon = await inboxRow(db.pool, Date.now() + 50);
    const report = await run;

    expect(report.outcome).toBe('complete');
    expect(report.deleted.offline_messages).toBe(4);
    expect(await msgIds(db.pool, 'offline_messages')).toEqual([fresh, soon].sort());
  });

  it('stops when CLEANUP_MAX_DURATION has passed and reports a partial run', async () => {
    for (let i = 0; i < 6; i++) await inboxRow(db.pool, NOW - 1 - i);
    const kept = await inboxRow(db.pool, NOW + 1);
    let t = NOW;
    const clock = () => (t += 10); // every reading is 10 ms later

    const report = await runCleanup(ports(clock), settings({ batchSize: 2, maxDurationMs: 25 }));

    expect(report).toMatchObject({ outcome: 'partial', stoppedBy: 'max-duration' });
    // readings at +20 and +30 ms allow two batches of 2; the one at +40 stops the run
    expect(report.deleted.offline_messages).toBe(4);
    expect(await count(db.pool, 'offline_messages')).toBe(3);
    expect(await msgIds(db.pool, 'offline_messages')).toContain(kept);
  });

  it('stops between batches when asked to shut down', async () => {
    for (let i = 0; i < 3; i++) await inboxRow(db.pool, NOW - 1 - i);
    const abort = new AbortController();
    const run = runCleanup(ports(), settings({ batchSize: 1, pauseMs: 5_000 }), abort.signal);
    await eventually(async () => (await count(db.pool, 'offline_messages')) === 2, 5000, 10);
    const t0 = Date.now();
    abort.abort();
    const report = await run;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(report).toMatchObject({ outcome: 'partial', stoppedBy: 'shutdown', deleted: { offline_messages: 1 } });
  });

  it('runs one at a time: skipped while another run holds the lock', async () => {
    const gone = await inboxRow(db.pool, NOW - 1);
    const held = await tryCleanupLock(db.pool, db.name);
    expect(held).toBeDefined();
    try {
      const report = await runCleanup(ports(), settings());
      expect(report.outcome).toBe('skipped');
      expect(await msgIds(db.pool, 'offline_messages')).toEqual([gone]);
    } finally {
      await held?.release();
    }
    const [a, b] = await Promise.all([runCleanup(ports(), settings()), runCleanup(ports(), settings())]);
    expect([a.outcome, b.outcome].sort()).toEqual(['complete', 'skipped']);
    expect(await count(db.pool, 'offline_messages')).toBe(0);
    // the lock is free again afterwards
    const again = await tryCleanupLock(db.pool, db.name);
    expect(again).toBeDefined();
    await again?.release();
  });

  it('reports a database failure as a failed run', async () => {
    await db.pool.query('RENAME TABLE group_messages TO group_messages_away');
    try {
      const report = await runCleanup(ports(), settings());
      expect(report.outcome).toBe('failed');
      expect(report.error).toMatch(/group_messages/);
    } finally {
      await db.pool.query('RENAME TABLE group_messages_away TO group_messages');
    }
  });
});
