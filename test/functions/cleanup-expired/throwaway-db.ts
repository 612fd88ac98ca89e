/**
 * A database of its own for a test file: created and migrated by spawning the migrate
 * bundle (the way the chart's Job does; postgrator cannot be loaded by jest), dropped
 * afterwards, so cleanup tests can delete freely without touching im_chat.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createMysqlPool, type Pool } from '../../../shared/storage/mysql';
import { testConfig } from '../../support/env';

const root = join(__dirname, '../../..');

export interface ThrowawayDb {
  readonly name: string;
  readonly pool: Pool;
  drop(): Promise<void>;
}

export async function createThrowawayDb(): Promise<ThrowawayDb> {
  const name = `im_test_cleanup_${randomBytes(5).toString('hex')}`;
  // global-setup has built dist/migrate already
  execFileSync(process.execPath, [join(root, 'dist/migrate/index.js')], {
    cwd: root,
    env: { ...process.env, DB_NAME: name, LOG_LEVEL: 'silent' },
    stdio: 'pipe',
  });
  const config = testConfig({ DB_NAME: name });
  const pool = createMysqlPool(config.db);
  return {
    name,
    pool,
    async drop() {
      await pool.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await pool.end();
    },
  };
}
