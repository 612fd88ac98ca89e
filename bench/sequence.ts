/**
 * Benchmark of the sequence generator (`npm run bench -- sequence`): one process, the
 * real Redis and MySQL of the local stack, CALLERS concurrent callers (64) each issuing
 * numbers in a loop over CONVERSATIONS conversations (1,000) for SECONDS (10), with the
 * production block size (SEQUENCE_SNAPSHOT_INTERVAL, 10,000) and the generator as the
 * functions build it (per-turn batching, a plain ioredis client). Then shorter
 * comparison phases (COMPARE_SECONDS, 3): the same with ioredis auto-pipelining on, and
 * one script call per number (maxBatch 1) with auto-pipelining — what batching buys.
 * Finally Redis's own ceiling (`redis-benchmark -t incr -P 16 -q -n 1000000`) and our
 * rate as a fraction of it. Writes bench/results/sequence.json.
 *
 * Keys go under a random prefix in REDIS_DB and rows under random conversation ids;
 * both are deleted at the end.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { loadConfig } from '../shared/config';
import { createMetrics } from '../shared/observability/metrics';
import { SequenceGenerator } from '../shared/sequence';
import { createMysqlPool } from '../shared/storage/mysql';
import { createRedis, type Redis } from '../shared/storage/redis';
import { RedisKeys } from '../shared/storage/redis-keys';

const CALLERS = Number(process.env['BENCH_CALLERS'] ?? 64);
const CONVERSATIONS = Number(process.env['BENCH_CONVERSATIONS'] ?? 1000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const COMPARE_SECONDS = Number(process.env['BENCH_COMPARE_SECONDS'] ?? 3);

interface Phase {
  readonly numbers: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

async function phase(gen: SequenceGenerator, convs: readonly string[], seconds: number): Promise<Phase> {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  let i = 0;
  const caller = async (): Promise<void> => {
    while (performance.now() < end) {
      const c = convs[i++ % convs.length] as string;
      const t = performance.now();
      await gen.next(c);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: CALLERS }, caller));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0, 3);
  return {
    numbers: latencies.length,
    seconds: round(elapsed, 2),
    perSecond: Math.round(latencies.length / elapsed),
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    maxMs: round(latencies[latencies.length - 1] ?? 0, 3),
  };
}

async function redisCeiling(host: string, port: number, password: string): Promise<{ perSecond: number; raw: string }> {
  // --dbnum 11: the counter key redis-benchmark creates lands in the database the
  // sequence tests own (and flush), not in anyone's working data.
  const args = ['-h', host, '-p', String(port), '--dbnum', '11', '-t', 'incr', '-P', '16', '-q', '-n', '1000000'];
  if (password) args.push('-a', password, '--no-auth-warning');
  const { stdout } = await promisify(execFile)('redis-benchmark', args, { timeout: 120_000 });
  // -q prints progress with \r, then "INCR: 512820.53 requests per second, p50=0.783 msec"
  const line = stdout.split(/[\r\n]/).filter((l) => /^INCR: [\d.]+ requests per second/.test(l)).pop() ?? '';
  const m = /^INCR: ([\d.]+)/.exec(line);
  if (!m) throw new Error(`cannot read redis-benchmark output: ${stdout.slice(-200)}`);
  return { perSecond: Math.round(Number(m[1])), raw: line.trim() };
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const tag = `bench-${randomBytes(4).toString('hex')}`;
  const prefix = `${tag}:`;
  const convs = Array.from({ length: CONVERSATIONS }, (_, i) => `g:${tag}-${i}`);
  const mysql = createMysqlPool(config.db);
  const pipelined = createRedis(config.redis, { keyPrefix: prefix });
  pipelined.options.enableAutoPipelining = true;
  const plain = createRedis(config.redis, { keyPrefix: prefix });
  const blockSize = config.sequence.snapshotInterval;
  const metrics = createMetrics(new Registry());
  const make = (redis: Redis, maxBatch?: number) => new SequenceGenerator({ redis, mysql, metrics, blockSize, maxBatch });
  const load = { before: loadavg().map((l) => round(l, 2)) };
  console.log(
    `sequence: ${CALLERS} callers, ${CONVERSATIONS} conversations, block ${blockSize}, ${SECONDS}s; ` +
      `${cpus().length} x ${cpus()[0]?.model ?? '?'}, load ${load.before.join(' ')}`,
  );
  try {
    const gen = make(plain);
    // Cold start: every conversation is new, so its first number goes through the locked recovery.
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, w) => {
        for (let i = w; i < convs.length; i += CALLERS) await gen.next(convs[i] as string);
      }),
    );
    const coldSeconds = (performance.now() - t0) / 1000;
    const cold = { conversations: convs.length, seconds: round(coldSeconds, 2), perSecond: Math.round(convs.length / coldSeconds) };
    console.log(`cold start (first number of each conversation: MySQL recovery): ${cold.perSecond}/s`);

    const show = (name: string, p: Phase): void =>
      console.log(`${name}: ${p.perSecond}/s (${p.numbers} numbers), p50 ${p.p50Ms} ms, p99 ${p.p99Ms} ms`);
    const steady = await phase(gen, convs, SECONDS);
    show('batched per turn (as deployed)', steady);
    const batchedAutoPipelined = await phase(make(pipelined), convs, COMPARE_SECONDS);
    show('batched per turn + ioredis auto-pipelining', batchedAutoPipelined);
    const perNumberAutoPipelined = await phase(make(pipelined, 1), convs, COMPARE_SECONDS);
    show('one script call per number + auto-pipelining', perNumberAutoPipelined);

    const ceiling = await redisCeiling(config.redis.host, config.redis.port, config.redis.password);
    const fraction = round(steady.perSecond / ceiling.perSecond, 3);
    console.log(`redis-benchmark -t incr -P 16: ${ceiling.perSecond}/s; ours = ${(fraction * 100).toFixed(1)}% of it`);
    const target = 50_000;
    console.log(steady.perSecond >= target ? `target ${target}/s: met` : `target ${target}/s: NOT met`);

    const result = {
      benchmark: 'sequence',
      date: new Date().toISOString(),
      params: { callers: CALLERS, conversations: CONVERSATIONS, seconds: SECONDS, blockSize },
      coldStart: cold,
      batchedPerTurn: steady,
      comparisons: {
        seconds: COMPARE_SECONDS,
        batchedPerTurnWithAutoPipelining: batchedAutoPipelined,
        oneCallPerNumberWithAutoPipelining: perNumberAutoPipelined,
      },
      redisIncrCeiling: ceiling,
      fractionOfRedisCeiling: fraction,
      targetPerSecond: target,
      targetMet: steady.perSecond >= target,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryGiB: round(totalmem() / 2 ** 30, 1),
        node: process.version,
        loadBefore: load.before,
        loadAfter: loadavg().map((l) => round(l, 2)),
        notes:
          'Redis, MariaDB, etcd and Kafka of the local stack run on the same machine; ' +
          'other engineers may share it (see loadBefore/loadAfter).',
      },
    };
    mkdirSync(join(process.cwd(), 'bench', 'results'), { recursive: true });
    writeFileSync(resultsPath(), JSON.stringify(result, null, 2) + '\n');
    console.log(`wrote ${resultsPath()}`);
  } finally {
    for (let i = 0; i < convs.length; i += 500) {
      const slice = convs.slice(i, i + 500);
      await mysql.query('DELETE FROM sequence_reservations WHERE conversation_id IN (?)', [slice]);
      await plain.del(...slice.map((c) => RedisKeys.sequence(c)));
    }
    pipelined.disconnect();
    plain.disconnect();
    await mysql.end();
  }
}

/** bench/results/sequence.json from the repository root (the bundle runs from node_modules/.cache). */
function resultsPath(): string {
  return join(process.cwd(), 'bench', 'results', 'sequence.json');
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
