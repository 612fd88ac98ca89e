// `npm run bench -- <name> [args...]`: runs bench/<name>.mjs as is, or bundles
// bench/<name>.ts with esbuild (npm packages left external, so they load from
// node_modules exactly as in the functions) into node_modules/.cache/im-bench/ and runs
// that with node. Each benchmark prints its figures and writes bench/results/<name>.json.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const benchDir = join(root, 'bench');
const [name, ...args] = process.argv.slice(2);

const available = readdirSync(benchDir)
  .filter((f) => /\.(ts|mjs)$/.test(f) && f !== 'run.mjs')
  .map((f) => f.replace(/\.(ts|mjs)$/, ''));
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name> [args]\navailable: ${available.sort().join(', ')}`);
  process.exit(name ? 1 : 0);
}

let entry = join(benchDir, `${name}.mjs`);
if (!existsSync(entry)) {
  const outdir = join(root, 'node_modules/.cache/im-bench');
  mkdirSync(outdir, { recursive: true });
  entry = join(outdir, `${name}.cjs`);
  await build({
    entryPoints: [join(benchDir, `${name}.ts`)],
    outfile: entry,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
}
const run = spawnSync(process.execPath, ['--enable-source-maps', entry, ...args], { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
