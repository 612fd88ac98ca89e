/**
 * The bundle launcher and its V8 code cache (shared/runtime/launcher.ts): the image
 * build's `--write-compile-cache` run starts nothing and writes index.js.cache; a start
 * uses that cache, ignores one written for another bundle, and behaves as the bundle
 * does without any cache.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/env';

const root = join(__dirname, '../..');
const dist = mkdtempSync(join(tmpdir(), 'im-compile-cache-'));
const bundle = (fn: string): string => join(dist, fn, 'index.js');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts a function until /health answers, then stops it; returns what it logged. */
async function startAndStop(fn: string, nodeArgs: string[] = []): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, bundle(fn)], {
    env: { ...process.env, HTTP_PORT: String(port), GRPC_PORT: '0', LOG_LEVEL: 'warn', CLEANUP_INTERVAL: '1h' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await eventually(() => fetch(`http://127.0.0.1:${port}/health`).then((r) => (r.ok ? r : undefined)), 20000, 50);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  return out;
}

describe('compile cache', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(root, 'build.mjs'), 'cleanup-expired', 'persist-offline', 'migrate'], {
      cwd: root,
      env: { ...process.env, IM_DIST_DIR: dist },
      stdio: 'pipe',
    });
  }, 120000);
  afterAll(() => rmSync(dist, { recursive: true, force: true }));

  it('is written by a run that starts nothing (not even reading the config)', () => {
    const t0 = Date.now();
    execFileSync(process.execPath, [bundle('cleanup-expired'), '--write-compile-cache'], {
      env: { ...process.env, GRPC_PORT: 'abc', HTTP_PORT: 'abc' },
      stdio: 'pipe',
    });
    expect(Date.now() - t0).toBeLessThan(10000);
    expect(statSync(`${bundle('cleanup-expired')}.cache`).size).toBeGreaterThan(100_000);
  });

  it('holds the whole bundle compiled, not only what the modules\' evaluation ran', () => {
    // Compiled lazily, the cache of this bundle was about 0.9 times its size (576 KB for
    // 640 KB); compiled eagerly (--no-lazy while the launcher compiles), over twice.
    const code = join(dist, 'cleanup-expired', 'bundle.js');
    expect(statSync(`${bundle('cleanup-expired')}.cache`).size).toBeGreaterThan(1.8 * statSync(code).size);
  });

  it('is used by a start, which logs no warning', async () => {
    expect(await startAndStop('cleanup-expired')).not.toMatch(/index\.js\.cache/);
  });

  it('is rejected under other V8 flags, with a warning, and the function still starts', async () => {
    expect(await startAndStop('cleanup-expired', ['--max-old-space-size=300'])).toMatch(/V8 rejected index\.js\.cache/);
  });

  it('is ignored when written for another bundle', async () => {
    execFileSync(process.execPath, [bundle('persist-offline'), '--write-compile-cache'], { stdio: 'pipe' });
    copyFileSync(`${bundle('persist-offline')}.cache`, `${bundle('cleanup-expired')}.cache`);
    expect(await startAndStop('cleanup-expired')).toMatch(/written for another index\.js/);
  });

  it('keeps a bad config value fatal: one line naming it, exit 1', () => {
    let failure: { status: number; stderr: string } | undefined;
    try {
      execFileSync(process.execPath, [bundle('cleanup-expired')], { env: { ...process.env, HTTP_PORT: 'abc' }, encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      failure = err as { status: number; stderr: string };
    }
    expect(failure?.status).toBe(1);
    expect(failure?.stderr).toBe('config error: HTTP_PORT: must be a port number 0-65535, got "abc"\n');
  });

  it('is not written for bundles without one: migrate exits at once, migrating nothing', () => {
    execFileSync(process.execPath, [bundle('migrate'), '--write-compile-cache'], {
      env: { ...process.env, DB_HOST: '192.0.2.1' },
      stdio: 'pipe',
      timeout: 5000,
    });
    expect(existsSync(`${bundle('migrate')}.cache`)).toBe(false);
    expect(readFileSync(bundle('migrate'), 'utf8').startsWith('"use strict";if(process.argv.includes("--write-compile-cache"))')).toBe(true);
  });
});
