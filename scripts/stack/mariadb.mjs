// MariaDB 10.11 for scripts/stack.mjs: own datadir, socket and port; creates the
// app database and user (DB_NAME / DB_USER / DB_PASSWORD) idempotently.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IS_ROOT, STATE, fatal, parseAddr, paths, run, target, which } from './util.mjs';
import { connect, db, denied, ident, setupSql } from './app-db.mjs';

const P = paths('mariadb');
// MySQL 8's default sql_mode (as in shared/storage/mysql.ts): MariaDB's lacks ONLY_FULL_GROUP_BY,
// so without it a GROUP BY that MySQL 8 refuses passes every test here (docs/mysql8.md).
const MYSQL8_SQL_MODE = 'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

/** mariadbd drops to the mysql user when we are root, and mysql cannot enter a 0700 home
 * (e.g. /root). Then the data lives in /var/lib/im-functions/<hash of STATE>, linked from STATE. */
function mysqlCanEnter(dir) {
  const pw = spawnSync('id', ['-u', 'mysql'], { encoding: 'utf8' });
  const gr = spawnSync('id', ['-g', 'mysql'], { encoding: 'utf8' });
  if (pw.status !== 0) return false;
  return spawnSync('test', ['-x', dir], { uid: Number(pw.stdout), gid: Number(gr.stdout) }).status === 0;
}
let dirCache;
function serverDir() {
  return (dirCache ||= pickServerDir());
}
function pickServerDir() {
  if (!IS_ROOT) return P.dir;
  fs.mkdirSync(P.dir, { recursive: true });
  if (mysqlCanEnter(P.dir)) return P.dir;
  return path.join('/var/lib/im-functions', `stack-${createHash('sha1').update(STATE).digest('hex').slice(0, 10)}`);
}
const files = (root = serverDir()) => ({ root, data: path.join(root, 'data'), sock: path.join(root, 'mysqld.sock') });
const adminUser = () => (IS_ROOT ? 'root' : os.userInfo().username);

export default {
  name: 'mariadb',
  marker: 'mariadbd',
  log: P.log,
  target: () => { // DB_HOST may carry a port; a non-empty DB_PORT wins (as in shared/config)
    const a = parseAddr(process.env.DB_HOST || 'localhost', 3306);
    return target('mariadb', a.host, Number(process.env.DB_PORT) || a.port);
  },
  bins: () => ({ mariadbd: 'mariadb-server', 'mariadb-install-db': 'mariadb-server', mariadb: 'mariadb-client' }),

  /** Initialise the datadir once (a half-done init is redone). */
  async prepare() {
    const f = files();
    const link = path.join(P.dir, 'datadir');
    fs.mkdirSync(P.dir, { recursive: true });
    if (f.root !== P.dir) {
      // STATE was deleted (reset) but the out-of-STATE data survived: start afresh.
      if (!fs.existsSync(link)) fs.rmSync(f.root, { recursive: true, force: true });
      fs.mkdirSync(f.root, { recursive: true });
      if (!fs.existsSync(link)) fs.symlinkSync(f.data, link);
    }
    if (IS_ROOT) spawnSync('chown', ['mysql:mysql', f.root]);
    const done = path.join(f.root, '.initialised');
    if (fs.existsSync(done)) return;
    fs.rmSync(f.data, { recursive: true, force: true });
    const r = await run(which('mariadb-install-db'), ['--no-defaults', `--datadir=${f.data}`, `--user=${IS_ROOT ? 'mysql' : os.userInfo().username}`,
      '--auth-root-authentication-method=socket', '--skip-test-db'], { cwd: f.root });
    fs.appendFileSync(P.log, r.out);
    if (r.code !== 0) throw new Error(`mariadb-install-db failed (exit ${r.code})`);
    fs.writeFileSync(done, new Date().toISOString());
  },

  command(t) {
    const f = files();
    return [which('mariadbd'), ['--no-defaults', `--datadir=${f.data}`, `--socket=${f.sock}`, `--pid-file=${path.join(f.root, 'mariadbd.pid')}`,
      // A 1G redo log (the default is 96M) holds a burst of inbox writes, e.g. a drained
      // offline_msg backlog, without forcing page flushes to free log space (docs/local-stack.md).
      `--bind-address=${t.bind}`, `--port=${t.port}`, '--skip-name-resolve', '--innodb-buffer-pool-size=256M', '--innodb-log-file-size=1G',
      '--max-connections=500', '--max-allowed-packet=64M', '--key-buffer-size=8M', '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_unicode_ci', `--sql-mode=${MYSQL8_SQL_MODE}`, '--skip-log-bin', '--log-warnings=1', ...(IS_ROOT ? ['--user=mysql'] : [])]];
  },

  /** The server speaks the protocol (a login refusal still counts as answering). */
  async ping(t) {
    try { await (await connect(t)).end(); } catch (e) { if (!denied(e)) throw e; }
  },

  /** Database + app user. Ours: root over our socket. Otherwise whatever the credentials allow. */
  async setup(t, { ours }) {
    const sock = files().sock;
    if (ours && fs.existsSync(sock)) {
      const r = await run(which('mariadb'), ['--no-defaults', `--socket=${sock}`, '-u', adminUser(), '--batch'], { input: setupSql() });
      if (r.code !== 0) throw fatal(`creating database/user over ${sock} failed: ${r.out.trim()}`);
      return;
    }
    let conn;
    try {
      conn = await connect(t);
      await conn.query(`CREATE DATABASE IF NOT EXISTS ${ident(db().name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`).catch(() => {});
      await conn.end();
      return;
    } catch (e) {
      conn?.destroy();
      if (!denied(e)) throw e;
    }
    if (process.env.DB_ROOT_USER) {
      const { default: mysql } = await import('mysql2/promise');
      const admin = await mysql.createConnection({ host: t.dial, port: t.port, user: process.env.DB_ROOT_USER,
        password: process.env.DB_ROOT_PASSWORD || '', multipleStatements: true, connectTimeout: 3000 });
      try { await admin.query(setupSql()); return; } finally { await admin.end().catch(() => {}); }
    }
    if (t.local && which('mariadb')) { // a system MariaDB on this machine: root via its default socket
      const r = await run(which('mariadb'), ['-u', adminUser(), '--batch'], { input: setupSql() });
      if (r.code === 0) return;
    }
    throw fatal(`user ${db().user} cannot log in to ${t.addr} and no admin access: create it, or set DB_ROOT_USER/DB_ROOT_PASSWORD`);
  },

  /** The app user can use the app database. */
  async verify(t) {
    let conn;
    try {
      conn = await connect(t, db().name);
      await conn.query('SELECT 1');
      await conn.end();
    } catch (e) {
      conn?.destroy();
      throw denied(e) ? fatal(`${db().user}@${t.addr}/${db().name}: ${e.message}`) : e;
    }
  },
};
