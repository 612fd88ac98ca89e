// The app database and user that the MariaDB and MySQL 8 components both create
// (DB_NAME / DB_USER / DB_PASSWORD), and how either checks it can log in.

export const db = () => ({
  name: process.env.DB_NAME || 'im_chat',
  user: process.env.DB_USER || 'im_service',
  password: process.env.DB_PASSWORD ?? 'im_service_password',
});

// access denied (db, user, no password), unknown database, host not allowed, (MariaDB)
// unix-socket plugin refused: the server answers but says no
const DENIED = new Set([1044, 1045, 1049, 1130, 1698]);
export const denied = (e) => DENIED.has(e.errno) || e.sqlState === '28000';
export const str = (s) => `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
export const ident = (s) => `\`${String(s).replace(/`/g, '``')}\``;

/** Idempotent: the database, and the user on every host a client may come from. */
export function setupSql() {
  const { name, user, password } = db();
  const lines = [`CREATE DATABASE IF NOT EXISTS ${ident(name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`];
  for (const host of ['%', 'localhost', '127.0.0.1']) {
    const who = `${str(user)}@${str(host)}`;
    lines.push(`CREATE USER IF NOT EXISTS ${who} IDENTIFIED BY ${str(password)};`,
      `ALTER USER ${who} IDENTIFIED BY ${str(password)};`,
      `GRANT ALL PRIVILEGES ON *.* TO ${who};`); // tests create throwaway databases
  }
  return lines.join('\n');
}

/** A connection as the app user to the server at target `t` (util.mjs). */
export async function connect(t, database) {
  const { default: mysql } = await import('mysql2/promise');
  const { user, password } = db();
  return mysql.createConnection({ host: t.dial, port: t.port, user, password, database, connectTimeout: 3000 });
}
