// Jest global setup: the stack is already up (`npm test` runs `stack:up` first), so
// this only applies the migrations to DB_NAME, the way `npm start` does.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async () => {
  const root = join(__dirname, '../..');
  execFileSync(process.execPath, [join(root, 'build.mjs'), 'migrate'], { cwd: root, stdio: 'ignore' });
  execFileSync(process.execPath, [join(root, 'dist/migrate/index.js')], { cwd: root, stdio: 'inherit' });
};
