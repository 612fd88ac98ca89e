/** The MySQL kit (mysql2 pool). */
import { createMysqlPool, pingMysql } from '../../storage/mysql';
import type { MysqlKit } from './types';

export const mysqlKit: MysqlKit = { create: (db) => createMysqlPool(db), ping: pingMysql };
