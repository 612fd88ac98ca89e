/**
 * The MySQL connection pool (mysql2/promise), configured from the seeds' DB_* names.
 * SQL in this project runs on MariaDB 10.11 and MySQL 8 alike.
 */
import { createPool, type Pool } from 'mysql2/promise';
import type { Config } from '../config';

export type { Pool } from 'mysql2/promise';

export function createMysqlPool(db: Config['db'], overrides: { database?: string } = {}): Pool {
  return createPool({
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: overrides.database ?? db.name,
    connectionLimit: db.maxOpenConns,
    maxIdle: Math.min(db.maxIdleConns, db.maxOpenConns),
    idleTimeout: db.connMaxLifetimeMs,
    connectTimeout: db.connTimeoutMs,
    waitForConnections: true,
    enableKeepAlive: true,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: false,
  });
}

export async function pingMysql(pool: Pool): Promise<void> {
  await pool.query('SELECT 1');
}
