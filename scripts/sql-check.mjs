#!/usr/bin/env node
// Checks the SQL the code actually sent, not only the migrations: reads the statements
// a MariaDB server logged in its general log table (Query, Prepare and Execute), hands
// them to the MySQL 8 dialect checker (scripts/sql-check.sh -z), one per distinct shape.
//
// The server must log to a table: start it with --general-log=1 --log-output=TABLE
// (docs/mysql8.md shows a private server for this), run the tests against it, then:
//
//   node scripts/sql-check.mjs --from-log        # DB_HOST/DB_PORT/DB_USER/DB_PASSWORD as for the stack
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
if (process.argv[2] !== '--from-log') {
  console.error('usage: node scripts/sql-check.mjs --from-log   (migrations alone: npm run sql:check)');
  process.exit(2);
}

const { default: mysql } = await import('mysql2');
const [host, hostPort] = (process.env.DB_HOST || '127.0.0.1').split(':');
const conn = mysql.createConnection({
  host,
  port: Number(process.env.DB_PORT) || Number(hostPort) || 3306,
  user: process.env.DB_USER || 'im_service',
  password: process.env.DB_PASSWORD ?? 'im_service_password',
});
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sql-check-')), 'statements');
const file = fs.createWriteStream(out);
let count = 0;
await new Promise((resolve, reject) => {
  conn
    .query("SELECT argument FROM mysql.general_log WHERE command_type IN ('Query', 'Prepare', 'Execute')")
    .stream()
    .on('data', (row) => {
      const sql = Buffer.isBuffer(row.argument) ? row.argument : Buffer.from(String(row.argument));
      if (sql.includes('mysql.general_log')) return; // this script's own reads
      count++;
      file.write(sql);
      file.write('\0');
    })
    .on('error', reject)
    .on('end', resolve);
});
conn.end();
await new Promise((resolve) => file.end(resolve));
console.log(`sql-check: ${count} logged statements (${out})`);
const r = spawnSync('sh', [path.join(root, 'scripts/sql-check.sh'), '-z', out], { stdio: 'inherit' });
process.exit(r.status ?? 1);
