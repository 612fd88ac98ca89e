/**
 * wrk (a C HTTP load generator) for the HTTP benchmark: installed by
 * scripts/bench-tools.sh, driven with bench/lib/wrk-tokens.lua so that every request
 * carries one of many users' tokens, and read back from the one JSON line that script
 * prints. On two cores the load generator competes with the server it measures: wrk
 * needs a fraction of the CPU autocannon (Node) does for the same request rate.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  readonly requests: number;
  /** Connect, read and write errors. */
  readonly errors: number;
  /** Answers with a 4xx or 5xx status (wrk does not count other non-2xx apart). */
  readonly non2xx: number;
  readonly timeouts: number;
}

interface WrkFigures {
  requests: number;
  durationUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
}

/** The wrk binary (installed on demand by scripts/bench-tools.sh), or undefined when that fails. */
export function ensureWrk(root: string): string | undefined {
  try {
    return execFileSync(join(root, 'scripts/bench-tools.sh'), ['wrk'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch {
    return undefined;
  }
}

export function wrkVersion(wrk: string): string {
  // `wrk --version` prints its banner and exits 1.
  try {
    execFileSync(wrk, ['--version'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const out = String((err as { stdout?: string }).stdout ?? '');
    return /^wrk (\S+)/.exec(out)?.[1] ?? 'unknown';
  }
  return 'unknown';
}

const ms = (us: number): number => Math.round(us / 10) / 100;

export async function runWrk(opts: {
  wrk: string;
  root: string;
  url: string;
  path: string;
  tokens: readonly string[];
  seconds: number;
  connections: number;
  threads: number;
}): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'im-bench-wrk-'));
  try {
    const tokensFile = join(dir, 'tokens');
    writeFileSync(tokensFile, `${opts.tokens.join('\n')}\n`);
    const args = [
      `-t${opts.threads}`,
      `-c${opts.connections}`,
      `-d${opts.seconds}s`,
      '--timeout', '5s',
      '-s', join(opts.root, 'bench/lib/wrk-tokens.lua'),
      opts.url,
      '--', opts.path, tokensFile,
    ];
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(opts.wrk, args, { encoding: 'utf8', maxBuffer: 1 << 20 }, (err, out, errOut) => {
        if (err) reject(new Error(`wrk failed: ${err.message}\n${errOut}`));
        else resolve(out);
      });
    });
    const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
    if (!line) throw new Error(`wrk printed no figures:\n${stdout}`);
    const f = JSON.parse(line.slice('WRK_JSON '.length)) as WrkFigures;
    return {
      requestsPerSecond: Math.round(f.requests / (f.durationUs / 1e6)),
      latencyMs: { p50: ms(f.p50Us), p90: ms(f.p90Us), p99: ms(f.p99Us), max: ms(f.maxUs) },
      requests: f.requests,
      errors: f.connect + f.read + f.write,
      non2xx: f.status,
      timeouts: f.timeout,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
