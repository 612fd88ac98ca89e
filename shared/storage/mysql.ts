/**
 * The MySQL connection pool (mysql2/promise), configured from the seeds' DB_* names.
 * SQL in this project runs on MariaDB 10.11 and MySQL 8 alike (docs/mysql8.md).
 *
 * Every connection runs with MySQL 8's default sql_mode, whatever the server's own
 * default: MariaDB's lacks ONLY_FULL_GROUP_BY, so a GROUP BY that MySQL 8 refuses
 * would pass every test here and fail in production there.
 */
import { createPool, type Pool } from 'mysql2/promise';
import type { Config } from '../config';

export type { Pool } from 'mysql2/promise';

/** MySQL 8.0/8.4's default sql_mode; every name is also MariaDB 10.11's. */
export const MYSQL8_SQL_MODE =
  'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

/** Keeps IGNORE_SPACE, which the server adds for mysql2's default client flag, on either server. */
export const SET_SQL_MODE =
  "SET SESSION sql_mode = CONCAT_WS(',', IF(FIND_IN_SET('IGNORE_SPACE', @@SESSION.sql_mode) > 0, 'IGNORE_SPACE', NULL), " +
  `'${MYSQL8_SQL_MODE}')`;

/**
 * The pool's 'connection' event hands over the driver's callback connection (the
 * promise typings say otherwise). Its queue runs the SET before any caller statement.
 */
interface CoreConnection {
  query(sql: string, callback: (err: Error | null) => void): unknown;
  destroy(): void;
}

export function createMysqlPool(db: Config['db'], overrides: { database?: string } = {}): Pool {
  const pool = createPool({
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
  pool.on('connection', (connection) => {
    const core = connection as unknown as CoreConnection;
    // A session without the mode must not serve queries: its caller gets a connection error.
    core.query(SET_SQL_MODE, (err) => {
      if (err) core.destroy();
    });
  });
  return pool;
}

export async function pingMysql(pool: Pool): Promise<void> {
  await pool.query('SELECT 1');
}
