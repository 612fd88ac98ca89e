/**
 * Applies migrations/ with postgrator (version table `schemaversion`), creating the
 * database first when the user may. Used by `npm run migrate`, `npm start`, the
 * chart's migration Job (dist/migrate) and tests (on throwaway databases).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Postgrator from 'postgrator';
import { createConnection } from 'mysql2/promise';
import type { Config } from '../config';
import { SET_SQL_MODE } from './mysql';

export interface MigrateResult {
  database: string;
  from: number;
  to: number;
  applied: string[];
}

export async function migrate(db: Config['db'], migrationsDir: string, database = db.name): Promise<MigrateResult> {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(database)) throw new Error(`bad database name ${database}`);
  const conn = await createConnection({
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    multipleStatements: true,
    connectTimeout: db.connTimeoutMs,
  });
  try {
    await conn.query(SET_SQL_MODE); // migrations run under MySQL 8's rules on MariaDB too
    await conn.query(
      `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
    await conn.query(`USE \`${database}\``);
    const postgrator = new Postgrator({
      migrationPattern: join(migrationsDir, '*'),
      driver: 'mysql',
      database,
      schemaTable: 'schemaversion',
      execQuery: async (query: string) => {
        const [rows] = await conn.query(query);
        return { rows: Array.isArray(rows) ? (rows as unknown[]) : [] };
      },
    });
    const from = Number(await postgrator.getDatabaseVersion());
    const applied = await postgrator.migrate();
    const to = Number(await postgrator.getDatabaseVersion());
    return { database, from, to, applied: applied.map((m) => `${m.version}.${m.action}.${m.name}`) };
  } finally {
    await conn.end();
  }
}

export function latestMigrationVersion(migrationsDir: string): number {
  return Math.max(0, ...readdirSync(migrationsDir).map((f) => Number(f.split('.')[0])).filter(Number.isFinite));
}
