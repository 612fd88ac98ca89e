/**
 * The CronJob form of cleanup-expired (`node dist/cleanup-expired/index.js --once`):
 * one run, its report as one JSON log line, then an exit code for Kubernetes — 0 when
 * the run completed, stopped at CLEANUP_MAX_DURATION (the next schedule continues) or
 * found another run holding the lock; 1 when it failed. SIGTERM (the Job's deadline,
 * a node drain) cuts the run short between batches.
 */
import { loadConfigOrExit } from '../../shared/runtime/main';
import { Dependencies } from '../../shared/runtime/deps';
import { createLogger } from '../../shared/observability/logger';
import { createMetrics } from '../../shared/observability/metrics';
import { runCleanup, settingsFrom } from './run';

export async function runOnce(): Promise<number> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.log.level, { service: 'cleanup-expired', mode: 'once' });
  const deps = new Dependencies(config, logger);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const report = await runCleanup(
      { pool: deps.mysql(), clock: Date.now, logger, metrics: createMetrics() },
      settingsFrom(config),
      abort.signal,
    );
    return report.outcome === 'failed' ? 1 : 0;
  } finally {
    await deps.close();
  }
}
