/**
 * One cleanup run: take the database lock, then apply each table's rule in bounded
 * batches with a pause between them (live traffic keeps its latency), until nothing
 * expired is left, CLEANUP_MAX_DURATION has passed, or the host asks to stop. The
 * cut-off instants are fixed when the run starts, so rows written during the run are
 * never candidates. Returns a report (also logged as one JSON line and counted in the
 * metrics); it does not throw — a failure is an outcome the caller maps to an exit code.
 */
import type { Config } from '../../shared/config';
import type { Logger } from '../../shared/observability/logger';
import type { Metrics } from '../../shared/observability/metrics';
import { sleep } from '../../shared/runtime/timeout';
import { tryCleanupLock } from '../../shared/storage/cleanup-lock';
import { CLEANUP_TABLES, cleanupRules, cutoffsAt, type CleanupRule, type CleanupTable } from '../../shared/storage/cleanup';
import type { Pool } from '../../shared/storage/mysql';

export const CLEANUP_OUTCOMES = ['complete', 'partial', 'skipped', 'failed'] as const;
export type CleanupOutcome = (typeof CLEANUP_OUTCOMES)[number];

export interface CleanupReport {
  /** complete: nothing expired left; partial: stopped by max duration or shutdown;
   *  skipped: another run holds the lock; failed: a database error ended the run. */
  readonly outcome: CleanupOutcome;
  readonly deleted: Record<CleanupTable, number>;
  readonly batches: number;
  readonly durationMs: number;
  /** Rows with expires_at below this were expired for this run. */
  readonly cutoff: number;
  readonly stoppedBy?: 'max-duration' | 'shutdown';
  readonly error?: string;
}

export interface CleanupPorts {
  readonly pool: Pool;
  readonly clock: () => number;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export interface CleanupSettings {
  readonly batchSize: number;
  readonly pauseMs: number;
  readonly maxDurationMs: number;
  readonly ttlMs: number;
  /** The database the lock is scoped to. */
  readonly database: string;
}

export const settingsFrom = (config: Config): CleanupSettings => ({
  ...config.cleanup,
  ttlMs: config.messages.ttlMs,
  database: config.db.name,
});

export async function runCleanup(
  ports: CleanupPorts,
  settings: CleanupSettings,
  signal?: AbortSignal,
): Promise<CleanupReport> {
  const { clock, logger, metrics } = ports;
  const started = clock();
  const cutoffs = cutoffsAt(started, settings.ttlMs);
  const deleted = Object.fromEntries(CLEANUP_TABLES.map((t) => [t, 0])) as Record<CleanupTable, number>;
  let batches = 0;
  let stoppedBy: CleanupReport['stoppedBy'];

  const finish = (outcome: CleanupOutcome, error?: string): CleanupReport => {
    const report: CleanupReport = {
      outcome,
      deleted,
      batches,
      durationMs: clock() - started,
      cutoff: cutoffs.now,
      ...(stoppedBy ? { stoppedBy } : {}),
      ...(error ? { error } : {}),
    };
    metrics.cleanupRuns.inc({ outcome });
    if (outcome === 'complete') metrics.cleanupLastComplete.set(clock() / 1000);
    logger[outcome === 'failed' ? 'error' : 'info']({ cleanup: report }, `cleanup ${outcome}`);
    return report;
  };

  let lock;
  try {
    lock = await tryCleanupLock(ports.pool, settings.database);
  } catch (err) {
    return finish('failed', message(err));
  }
  if (!lock) return finish('skipped');

  // True when the run must stop before its next batch.
  const mustStop = (): boolean => {
    if (signal?.aborted) stoppedBy = 'shutdown';
    else if (clock() - started >= settings.maxDurationMs) stoppedBy = 'max-duration';
    return stoppedBy !== undefined;
  };
  try {
    for (const rule of cleanupRules(ports.pool)) {
      const done = await drain(rule);
      if (!done) return finish('partial');
    }
    return finish('complete');
  } catch (err) {
    return finish('failed', message(err));
  } finally {
    await lock.release();
  }

  /** Applies one rule batch by batch; false when the run had to stop first. */
  async function drain(rule: CleanupRule): Promise<boolean> {
    for (let first = true; ; first = false) {
      if (!first) await sleep(settings.pauseMs, signal);
      if (mustStop()) return false;
      const batch = await rule.findBatch(cutoffs, settings.batchSize);
      if (batch.examined === 0) return true;
      const n = await rule.deleteBatch(batch, cutoffs);
      batches += 1;
      if (n > 0) {
        deleted[rule.table] += n;
        metrics.cleanupDeleted.inc({ table: rule.table }, n);
      }
      // Keys found but none deleted means they went away meanwhile (e.g. a GDPR
      // delete): move on rather than spin on the same batch.
      if (batch.keys.length > 0 && n === 0) return true;
    }
  }
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
