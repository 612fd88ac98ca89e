/**
 * Entry of `npm run migrate` and of the chart's migration Job: applies migrations/
 * (next to the bundle, or in the repo) to DB_NAME and prints what it did.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadDbConfig } from '../config/config';
import { ConfigError } from '../errors';
import { migrate } from './migrate';

const dir = [join(__dirname, 'migrations'), join(__dirname, '../../migrations'), join(process.cwd(), 'migrations')].find(
  (d) => existsSync(d),
);

async function main(): Promise<void> {
  // Only the database settings: the Job shares the functions' config, whose other
  // sections (and their checks) are none of a migration's business.
  let db: ReturnType<typeof loadDbConfig>;
  try {
    db = loadDbConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`config error: ${err.message}\n`);
    process.exit(1);
  }
  if (!dir) throw new Error('migrations folder not found');
  const r = await migrate(db, dir);
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
