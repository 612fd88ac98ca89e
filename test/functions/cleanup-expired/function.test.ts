/**
 * cleanup-expired as it is deployed: the timer worker inside a host (all-in-one local
 * process), and the CronJob's one-shot bundle (`index.js --once`) with its exit codes
 * and its one JSON report line — against a throwaway MariaDB database.
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { cleanupExpired } from '../../../functions/cleanup-expired/function';
import { eventually, startTestHost } from '../../support/env';
import { createThrowawayDb, type ThrowawayDb } from './throwaway-db';
import { count, inboxRow } from './rows';

const root = join(__dirname, '../../..');
const bundle = join(root, 'dist/cleanup-expired/index.js');
let db: ThrowawayDb;

beforeAll(async () => {
  execFileSync(process.execPath, [join(root, 'build.mjs'), 'cleanup-expired'], { cwd: root, stdio: 'pipe' });
  db = await createThrowawayDb();
});
afterAll(async () => {
  await db.drop();
});

function runOnce(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle, '--once'], {
      env: { ...process.env, DB_NAME: db.name, LOG_LEVEL: 'info', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('cleanup-expired --once (the CronJob)', () => {
  it('runs once, prints its report as JSON and exits 0', async () => {
    await inboxRow(db.pool, Date.now() - 1000);
    await inboxRow(db.pool, Date.now() - 2000);
    const kept = await inboxRow(db.pool, Date.now() + 3_600_000);

    const { code, stdout } = await runOnce({ CLEANUP_BATCH_SIZE: '1', CLEANUP_PAUSE: '0ms' });

    expect(code).toBe(0);
    const line = stdout.split('\n').find((l) => l.includes('"cleanup"'));
    expect(line).toBeDefined();
    const report = JSON.parse(line as string) as { cleanup: { outcome: string; deleted: Record<string, number> } };
    expect(report.cleanup.outcome).toBe('complete');
    expect(report.cleanup.deleted['offline_messages']).toBe(2);
    expect(await count(db.pool, 'offline_messages')).toBe(1);
    await db.pool.query('DELETE FROM offline_messages WHERE msg_id = ?', [kept]);
  });

  it('exits 1 when the database cannot be reached', async () => {
    // DB_PORT too: a non-empty DB_PORT (e.g. the MySQL 8 run's) would win over a port in DB_HOST.
    const { code, stdout } = await runOnce({ DB_HOST: '127.0.0.1', DB_PORT: '1', DB_CONN_TIMEOUT: '1s' });
    expect(code).toBe(1);
    expect(stdout).toContain('"outcome":"failed"');
  });

  it('stops at the first bad setting with one line naming it', async () => {
    const { code, stderr } = await runOnce({ CLEANUP_BATCH_SIZE: 'lots' });
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(/^config error: CLEANUP_BATCH_SIZE/);
  });
});

describe('cleanup-expired in a host (timer worker)', () => {
  it('cleans at start and every CLEANUP_INTERVAL, and exports what it deleted', async () => {
    await inboxRow(db.pool, Date.now() - 1000);
    const host = await startTestHost([cleanupExpired], { DB_NAME: db.name, CLEANUP_INTERVAL: '1s', CLEANUP_PAUSE: '0ms' });
    try {
      const base = `http://127.0.0.1:${host.httpPort}`;
      const runs = async () => {
        const stats = (await (await fetch(`${base}/stats`)).json()) as { workers: Record<string, { runs: number }> };
        return stats.workers['cleanup-expired']?.runs ?? 0;
      };
      await eventually(async () => (await runs()) >= 1, 5000);
      expect(await count(db.pool, 'offline_messages')).toBe(0);
      await inboxRow(db.pool, Date.now() - 1000);
      await eventually(async () => (await runs()) >= 2, 5000);
      expect(await count(db.pool, 'offline_messages')).toBe(0);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/im_service_cleanup_deleted_total\{table="offline_messages"\} 2/);
      expect(metrics).toMatch(/im_service_cleanup_runs_total\{outcome="complete"\} [2-9]/);
      expect((await fetch(`${base}/ready`)).status).toBe(200);
    } finally {
      await host.stop();
    }
  });
});
