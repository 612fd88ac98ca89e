/**
 * The index.js of every function (build.mjs writes this launcher, minified to one line,
 * as index.js and the function's bundle beside it as bundle.js). It compiles the bundle
 * itself with vm.Script so V8 can take a code cache for it: `node index.js
 * --write-compile-cache` (the image build) evaluates the bundle's modules without
 * starting anything and writes index.js.cache with the bytecode of the whole bundle; a
 * start with that file skips parsing and compiling, which was the larger part of a cold
 * start (docs/deploy.md, "Cold start"). The bundle is a file of its own, which node never
 * loads: node reads and compiles index.js, which used to carry the bundle as comments
 * (about 10 ms of every start for route-private's). Without a cache, or with one V8
 * rejects (another node build, other V8 flags), the bundle is compiled from source.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { constants, Script } from 'node:vm';
import { crc32 } from 'node:zlib';
import { COMPILE_CACHE_FLAG, setCompileCacheState } from './compile-cache';

type CommonJsWrapper = (
  exports: unknown,
  req: NodeJS.Require,
  mod: NodeJS.Module,
  filename: string,
  dirname: string,
) => void;

const bundleFile = `${__dirname}/bundle.js`;
// Read as bytes: the CRC-32 below is taken of them, and build.mjs guarantees bundle.js is
// ASCII, so latin1 decodes it exactly and faster than UTF-8 (a few ms of a start for a
// 1-2 MB bundle, as is taking the CRC of the string, which re-encodes it first).
const file = readFileSync(bundleFile);
const source = file.toString('latin1');
const writing = process.argv.includes(COMPILE_CACHE_FLAG);
const cacheFile = `${__filename}.cache`;
// V8 checks a cache against the source's length only: the file starts with the CRC-32
// of the launcher and bundle it was written for, so a cache left next to another build
// is not used.
const sourceCrc = Buffer.alloc(4);
sourceCrc.writeUInt32BE(crc32(file, crc32(readFileSync(__filename))));
let cachedData: Buffer | undefined;
let stale = false;
if (!writing) {
  try {
    const cache = readFileSync(cacheFile);
    stale = !cache.subarray(0, 4).equals(sourceCrc);
    if (!stale) cachedData = cache.subarray(4);
  } catch {
    // no cache in this build: compile from source
  }
}
// The cache holds bytecode only for the functions V8 compiled before it was written, and
// V8 compiles a function lazily, at its first call: a cache of the modules' evaluation
// alone left everything a start runs afterwards (the host, create(), the clients'
// connection set-up, the first request) to be compiled at every cold start, about a
// tenth of route-private's start. So the writing run compiles the whole bundle eagerly
// (--no-lazy while V8 compiles it, then back to the default, which V8 checks a cache
// against): every function is in the cache, at the price of a cache 2-3 times larger.
const setV8Flags = (flags: string): void => (require('node:v8') as typeof import('node:v8')).setFlagsFromString(flags);
if (writing) setV8Flags('--no-lazy');
// Node's own CommonJS wrapper, on the bundle's first line: lines in stack traces are
// those of bundle.js. The bundle gets index.js's module, __filename and __dirname.
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: bundleFile,
  ...(cachedData ? { cachedData } : {}),
  importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
if (writing) setV8Flags('--lazy');
setCompileCacheState({
  status: stale ? 'stale' : cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'used',
  writing,
});
(script.runInThisContext() as CommonJsWrapper).call(module.exports, module.exports, require, module, __filename, __dirname);
if (writing) {
  writeFileSync(cacheFile, Buffer.concat([sourceCrc, script.createCachedData()]));
  process.exit(0);
}
