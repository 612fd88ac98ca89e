/**
 * Entry of `npm run migrate` and of the chart's migration Job: applies migrations/
 * (next to the bundle, or in the repo) to DB_NAME and prints what it did.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigOrExit } from '../runtime/main';
import { migrate } from './migrate';

const dir = [join(__dirname, 'migrations'), join(__dirname, '../../migrations'), join(process.cwd(), 'migrations')].find(
  (d) => existsSync(d),
);

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  if (!dir) throw new Error('migrations folder not found');
  const r = await migrate(config.db, dir);
  console.log(
    r.applied.length === 0
      ? `migrate: ${r.database} is at version ${r.to}, nothing to apply`
      : `migrate: ${r.database} ${r.from} -> ${r.to} (${r.applied.join(', ')})`,
  );
}

main().catch((err: unknown) => {
  console.error(`migrate failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
