/**
 * The bundles as containers run them: `node build.mjs` prints six function bundles
 * (plus local and migrate), each starts alone and answers /health, and a bad config
 * value stops a bundle with one line naming the variable and exit code 1.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { eventually } from '../support/env';

const root = join(__dirname, '../..');
const FUNCTIONS = ['route-private', 'route-group', 'fanout-group', 'persist-offline', 'mark-read', 'cleanup-expired'];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('function bundles', () => {
  let buildOutput = '';
  beforeAll(() => {
    buildOutput = execFileSync(process.execPath, [join(root, 'build.mjs')], { cwd: root, encoding: 'utf8' });
  }, 120000);

  it('prints the size of all six function bundles', () => {
    for (const fn of FUNCTIONS) expect(buildOutput).toMatch(new RegExp(`^${fn}\\s+\\d+\\.\\d\\d MB\\s+dist/${fn}/bundle\\.js$`, 'm'));
  });

  it.each(FUNCTIONS)('%s starts alone and answers /health', async (fn) => {
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const child: ChildProcess = spawn(process.execPath, [join(root, 'dist', fn, 'index.js')], {
      env: { ...process.env, HTTP_PORT: String(httpPort), GRPC_PORT: String(grpcPort), LOG_LEVEL: 'warn', CLEANUP_INTERVAL: '1h' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const res = await eventually(() => fetch(`http://127.0.0.1:${httpPort}/health`).then((r) => (r.ok ? r : undefined)), 20000, 100);
      expect(await res.json()).toMatchObject({ status: 'healthy' });
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(stderr).toBe('');
  });

  it('exits 1 with one line naming a bad variable', () => {
    let failure: { status: number; stderr: string } | undefined;
    try {
      execFileSync(process.execPath, [join(root, 'dist/route-private/index.js')], {
        env: { ...process.env, GRPC_PORT: 'abc' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      failure = err as { status: number; stderr: string };
    }
    expect(failure?.status).toBe(1);
    expect(failure?.stderr).toBe('config error: GRPC_PORT: must be a port number 0-65535, got "abc"\n');
  });
});
