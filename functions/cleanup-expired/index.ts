/**
 * Container entry of cleanup-expired. `--once` (the chart's CronJob): one run, then
 * exit 0/1. Without it: this function alone in its host, cleaning on a timer.
 */
import { runMain } from '../../shared/runtime/main';
import { cleanupExpired } from './function';
import { runOnce } from './once';

if (process.argv.includes('--once')) {
  runOnce().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`cleanup failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
} else {
  void runMain([cleanupExpired], 'cleanup-expired');
}
