#!/usr/bin/env node
// scripts/test-mysql8.mjs — `npm run test:mysql8`: the test files whose SQL reaches the
// database, run against the stack's MySQL 8 server instead of MariaDB (docs/mysql8.md).
// Brings up what they need (MySQL 8 on MYSQL8_PORT, Redis, etcd, Kafka), then jest with
// DB_HOST/DB_PORT pointing at MySQL 8; jest's global setup applies the migrations there.
// Extra arguments go to jest (e.g. `npm run test:mysql8 -- test/shared/storage`).
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const PORT = Number(process.env.MYSQL8_PORT) || 3307;

// The files whose SQL reaches the database: every function's tests (a few unit files in these
// folders come along; they take about 5 s in all), storage, sequences (hi/lo reservations:
// LAST_INSERT_ID(expr) in both upsert branches), migrations (postgrator's version table),
// the admin users upsert, /ready's database check.
const FILES = ['test/functions/', 'test/shared/storage/', 'test/shared/sequence/', 'test/shared/runtime/deps.test.ts',
  'test/infra/migrate.test.ts', 'test/infra/admin-users.test.ts'];
// Left out, because they test processes and memory rather than SQL, and their statements all
// run in the files above; together they would add about 100 s (docs/mysql8.md). Name them as
// arguments to run them on MySQL 8 too.
const LEFT_OUT = [
  'test/functions/persist-offline/crash.test.ts', // SIGKILLed consumers; the upserts of persist-offline.test.ts
  'test/functions/fanout-group/crash.test.ts', // SIGKILLed fanout; the group log and member pages of large-group.test.ts
  'test/functions/mark-read/export-memory.test.ts', // heap bound of the GDPR export; its SQL is gdpr.test.ts's
];

const args = process.argv.slice(2);
const up = spawnSync(process.execPath, [path.join(REPO, 'scripts/stack.mjs'), 'up', 'redis', 'etcd', 'kafka', 'mysql8'], {
  cwd: REPO, stdio: 'inherit', env: { ...process.env, MYSQL8_PORT: String(PORT) },
});
if (up.status !== 0) process.exit(up.status ?? 1);

const jest = spawnSync(process.execPath, ['--expose-gc', path.join(REPO, 'node_modules/jest/bin/jest.js'), '--runInBand',
  ...(args.length ? args : [...FILES, '--testPathIgnorePatterns', ...LEFT_OUT])], {
  cwd: REPO, stdio: 'inherit',
  // DB_HOST without a port and DB_PORT set: one place decides the port (shared/config lets DB_PORT win).
  env: { ...process.env, DB_HOST: '127.0.0.1', DB_PORT: String(PORT) },
});
process.exit(jest.status ?? 1);
