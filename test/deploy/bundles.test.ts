/**
 * What each container image carries: `node build.mjs` keeps every function bundle
 * under 2 MB and puts in it only the client libraries its definition needs.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FUNCTION_NAMES } from '../../shared/runtime/types';

const root = join(__dirname, '../..');
const MAX_BYTES = 2 * 1024 * 1024;
// A marker string each client library's code contains.
const MARKERS = { mysql: 'ER_DUP_ENTRY', redis: 'ioredis', etcd: 'etcdserverpb', kafka: 'KafkaJSError' } as const;

const needsOf = (fn: string): string[] => {
  const m = /needs:\s*\[([^\]]*)\]/.exec(readFileSync(join(root, 'functions', fn, 'function.ts'), 'utf8'));
  return [...(m?.[1] ?? '').matchAll(/'([a-z0-9]+)'/g)].map((x) => x[1] as string);
};

describe('function bundles', () => {
  let output = '';
  beforeAll(() => {
    output = execFileSync(process.execPath, [join(root, 'build.mjs'), ...FUNCTION_NAMES], { cwd: root, encoding: 'utf8' });
  }, 120000);

  it.each(FUNCTION_NAMES)('%s is under 2 MB and carries only the clients it needs', (fn) => {
    expect(output).toMatch(new RegExp(`^${fn}\\s+\\d+\\.\\d\\d MB`, 'm'));
    // index.js is the launcher, bundle.js the function's bundle (build.mjs).
    const file = join(root, 'dist', fn, 'bundle.js');
    expect(statSync(file).size + statSync(join(root, 'dist', fn, 'index.js')).size).toBeLessThan(MAX_BYTES);
    const code = readFileSync(file, 'utf8');
    const needs = needsOf(fn);
    for (const [client, marker] of Object.entries(MARKERS)) {
      expect([client, code.includes(marker)]).toEqual([client, needs.includes(client)]);
    }
  });
});
