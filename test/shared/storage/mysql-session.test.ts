/**
 * Every pooled session runs with MySQL 8's default sql_mode on MariaDB too, so the
 * GROUP BY and strictness rules MySQL 8 applies fail our own tests first.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { InboxStore } from '../../../shared/storage/inbox';
import { MYSQL8_SQL_MODE, createMysqlPool, type Pool } from '../../../shared/storage/mysql';
import { testConfig, uid } from '../../support/env';

const modes = (s: string): string[] => s.split(',').filter(Boolean).sort();
// mysql2's default client flags include IGNORE_SPACE, which the server adds to the session mode.
const expected = modes(`IGNORE_SPACE,${MYSQL8_SQL_MODE}`);

describe('MySQL pool session settings (real MariaDB)', () => {
  let pool: Pool;
  beforeAll(() => {
    pool = createMysqlPool(testConfig().db);
  });
  afterAll(async () => {
    await pool.end();
  });

  it('sets MySQL 8 default sql_mode on every new connection, before its first statement', async () => {
    // Several connections at once: each is new, and each answers its first query already switched.
    const conns = await Promise.all(Array.from({ length: 4 }, () => pool.getConnection()));
    try {
      const answers = await Promise.all(conns.map((c) => c.query<RowDataPacket[]>('SELECT @@SESSION.sql_mode AS m')));
      for (const [rows] of answers) expect(modes(String(rows[0]?.['m']))).toEqual(expected);
    } finally {
      for (const c of conns) c.release();
    }
    const [prepared] = await pool.execute<RowDataPacket[]>('SELECT @@SESSION.sql_mode AS m');
    expect(modes(String(prepared[0]?.['m']))).toEqual(expected);
  });

  it('refuses a non-aggregated column outside GROUP BY, as MySQL 8 does', async () => {
    await expect(
      pool.query('SELECT t.a, COUNT(*) AS n FROM (SELECT 1 AS a, 2 AS b UNION ALL SELECT 3, 2) t GROUP BY t.b'),
    ).rejects.toMatchObject({ code: 'ER_WRONG_FIELD_WITH_GROUP' });
  });

  it('runs the prepared unread count again on the same connection (MariaDB refused the outer-join form under ONLY_FULL_GROUP_BY)', async () => {
    const one = createMysqlPool(testConfig({ DB_MAX_OPEN_CONNS: '1' }).db);
    try {
      const inbox = new InboxStore(one, { groupConversationId: (g) => `g:${g}` });
      const user = uid('mode');
      for (let i = 0; i < 3; i++) await expect(inbox.unreadCounts(user)).resolves.toEqual({ private: 0, group: 0 });
    } finally {
      await one.end();
    }
  });

  it('refuses a zero date, as MySQL 8 does', async () => {
    const conn = await pool.getConnection();
    try {
      await conn.query('CREATE TEMPORARY TABLE mode_probe (d DATE NULL) ENGINE=InnoDB');
      await expect(conn.query("INSERT INTO mode_probe VALUES ('0000-00-00')")).rejects.toMatchObject({
        code: 'ER_TRUNCATED_WRONG_VALUE',
      });
    } finally {
      await conn.query('DROP TEMPORARY TABLE IF EXISTS mode_probe');
      conn.release();
    }
  });
});
