/**
 * cleanup-expired: deletes rows past their TTL in bounded batches (see run.ts for one
 * run, shared/storage/cleanup.ts for what each table may lose). As a function it is a
 * timer worker; the CronJob runs the same code once per pod (index.ts --once).
 */
import type { FunctionDefinition } from '../../shared/runtime/types';
import { settingsFrom } from './run';
import { CleanupWorker } from './worker';

export const cleanupExpired: FunctionDefinition = {
  name: 'cleanup-expired',
  needs: ['mysql'],
  async create({ config, deps, logger, metrics }) {
    const worker = new CleanupWorker(
      { pool: deps.mysql(), clock: Date.now, logger, metrics },
      settingsFrom(config),
      config.cleanup.intervalMs,
    );
    return { workers: [worker] };
  },
};
