// Bundles each function into dist/<function>/index.js with esbuild — one
// self-contained folder per container image — plus dist/local (all six functions in
// one process, for development) and dist/migrate (the chart's migration Job).
// Run-time assets a dependency reads from disk are copied next to the bundle.
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('.', import.meta.url).pathname;
const FUNCTIONS = ['route-private', 'route-group', 'fanout-group', 'persist-offline', 'mark-read', 'cleanup-expired'];
const ENTRIES = [
  ...FUNCTIONS.map((name) => ({ name, entry: `functions/${name}/index.ts` })),
  { name: 'local', entry: 'shared/runtime/local-main.ts' },
  { name: 'migrate', entry: 'shared/storage/migrate-main.ts' },
  { name: 'token', entry: 'shared/auth/token-main.ts' },
];

// etcd3 loads its protos from `${__dirname}/../proto` at import time; in a bundle
// __dirname is the bundle's folder, so point it at a proto/ folder inside it.
const etcdProtoPath = {
  name: 'etcd3-proto-path',
  setup(b) {
    b.onLoad({ filter: /etcd3[\\/]lib[\\/]connection-pool\.js$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      const src = await readFile(args.path, 'utf8');
      return { contents: src.replace('`${__dirname}/../proto/rpc.proto`', '`${__dirname}/proto/etcd3/rpc.proto`'), loader: 'js' };
    });
  },
};

const only = process.argv.slice(2);
const rows = [];
for (const { name, entry } of ENTRIES.filter((e) => only.length === 0 || only.includes(e.name))) {
  const outdir = join(root, 'dist', name);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    entryPoints: [join(root, entry)],
    outfile: join(outdir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    sourcemap: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: [etcdProtoPath],
    define: { 'process.env.IM_FUNCTION_BUNDLE': JSON.stringify(name) },
  });
  const inputs = Object.keys(result.metafile.inputs);
  if (inputs.some((p) => p.includes('node_modules/etcd3/'))) {
    cpSync(join(root, 'node_modules/etcd3/proto'), join(outdir, 'proto/etcd3'), { recursive: true });
  }
  if (name === 'migrate' || name === 'local') {
    cpSync(join(root, 'migrations'), join(outdir, 'migrations'), { recursive: true });
  }
  writeFileSync(join(outdir, 'package.json'), JSON.stringify({ name: `im-functions-${name}`, private: true, main: 'index.js' }) + '\n');
  rows.push([name, statSync(join(outdir, 'index.js')).size]);
}
const width = Math.max(...rows.map(([n]) => n.length));
for (const [name, size] of rows) {
  console.log(`${name.padEnd(width)}  ${(size / 1024 / 1024).toFixed(2).padStart(6)} MB  dist/${name}/index.js`);
}
