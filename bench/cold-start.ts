/**
 * Cold-start benchmark (`npm run bench -- cold-start`): for each function bundle, the
 * time from spawning `node dist/<fn>/index.js` to its first successful real request,
 * with the servers already up — the latency a Knative scale-from-zero (or a KEDA
 * activation) adds. Target: < 300 ms each.
 *
 *   route-private   a RoutePrivateMessage over gRPC answered success (recipient offline:
 *                   dedup claim, sequence, offline_msg publish)
 *   route-group     a RouteGroupMessage over gRPC answered success (member check,
 *                   sequence, group_msg publish)
 *   mark-read       GET /api/v1/messages/unread/count with a JWT answered 200
 *   persist-offline /ready 200 (consumer joined its group)
 *   fanout-group    /ready 200 (consumer joined its group)
 *   cleanup-expired `--once` (the CronJob) exited 0 after a complete run
 *
 * The bundles are built by build.mjs into node_modules/.cache/im-bench/dist, and each
 * function's V8 code cache is written as the image build writes it (`node index.js
 * --write-compile-cache`, by the node that runs them); BENCH_COMPILE_CACHE=0 measures
 * them without it.
 * Isolated from everything else on the machine: a throwaway database (migrated by the
 * migrate bundle), fresh topics and consumer groups, a random Redis key prefix and etcd
 * registry prefix; all removed at the end. BENCH_RUNS (5) spawns per function after one
 * warm-up spawn (disk cache); the median is the figure. Writes bench/results/cold-start.json.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { JwtAuth } from '../shared/auth/jwt';
import { createKafka } from '../shared/bus/kafka';
import { TOPICS } from '../shared/bus/topics';
import { loadConfig } from '../shared/config';
import { IMServiceClient } from '../shared/gen/im/v1/im';
import { createLogger } from '../shared/observability/logger';
import { createMysqlPool } from '../shared/storage/mysql';
import { cpuSecondsOf } from './lib/proc-stat';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const TARGET_MS = 300;
const PROBE_EVERY_MS = 2;
const GIVE_UP_MS = 30_000;
// BENCH_NODE_ARGS: extra node flags for the spawned functions, e.g. `--cpu-prof
// --cpu-prof-dir=/tmp/prof` to see where a cold start goes.
const NODE_ARGS = (process.env['BENCH_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean);
// BENCH_NODE: the node binary that runs the functions (default: this one), e.g. the
// image's Node 22 to measure what it adds.
const NODE = process.env['BENCH_NODE'] || process.execPath;
const COMPILE_CACHE = process.env['BENCH_COMPILE_CACHE'] !== '0';
// BENCH_BASELINE: a folder of other bundles (<dir>/<fn>/index.js, e.g. an older commit's
// `IM_DIST_DIR=<dir> node build.mjs`), run alternately with these so both medians come
// from the same minutes of a shared machine; `no-cache`: these bundles without caches.
const BASELINE = process.env['BENCH_BASELINE'];
const FUNCTIONS = ['route-private', 'route-group', 'mark-read', 'persist-offline', 'fanout-group', 'cleanup-expired'];
// run.mjs runs the bundled benchmark from the repository root. The bundles are built
// into a private folder so concurrent builds of the shared dist/ cannot pull them away.
const repo = process.cwd();
const dist = join(repo, 'node_modules/.cache/im-bench/dist');
const baselineDist = BASELINE === 'no-cache' ? `${dist}-no-cache` : BASELINE;

// NODE_EXTRA_CA_CERTS makes Node 20 load its bundled root certificates plus that file's
// at every start, before any JavaScript runs: 65-120 ms here (this machine's shell sets it
// for its package proxy). No pod sets it (the chart and the image do not) and no function
// talks TLS to these servers, so the functions run without it; BENCH_KEEP_EXTRA_CA=1
// keeps it (the `node -e ''` baseline is measured in the functions' environment either way).
const KEEP_EXTRA_CA = process.env['BENCH_KEEP_EXTRA_CA'] === '1';
const machineEnv = { ...(process.env as Record<string, string>) };
const droppedExtraCa = !KEEP_EXTRA_CA && machineEnv['NODE_EXTRA_CA_CERTS'] !== undefined;
if (!KEEP_EXTRA_CA) delete machineEnv['NODE_EXTRA_CA_CERTS'];

const tag = randomBytes(4).toString('hex');
const env: Record<string, string> = {
  ...machineEnv,
  DB_NAME: `im_bench_cold_${tag}`,
  REDIS_KEY_PREFIX: `bench-cold-${tag}:`,
  REGISTRY_PREFIX: `/bench-cold-${tag}/registry/`,
  KAFKA_TOPIC_OFFLINE_MSG: `bench_cold_offline_${tag}`,
  KAFKA_TOPIC_GROUP_MSG: `bench_cold_group_${tag}`,
  KAFKA_CONSUMER_GROUP: `bench-cold-offline-${tag}`,
  FANOUT_CONSUMER_GROUP: `bench-cold-fanout-${tag}`,
  LOG_LEVEL: 'warn',
  CLEANUP_PAUSE: '0ms',
  CLEANUP_INTERVAL: '1h',
};
const config = loadConfig(env);
const SENDER = `bench-s-${tag}`;
const RECIPIENT = `bench-r-${tag}`;
const GROUP = `bench-g-${tag}`;

type Probe = (ports: { http: number; grpc: number }, attempt: number) => Promise<boolean>;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** True once something accepts TCP connections on the port. */
const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const c = createConnection({ port, host: '127.0.0.1' });
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });

async function grpcCall(port: number, method: 'routePrivateMessage' | 'routeGroupMessage', req: object): Promise<boolean> {
  if (!(await accepts(port))) return false;
  const client = new IMServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  try {
    const res = await new Promise<{ success: boolean }>((resolve, reject) => {
      const deadline = new Date(Date.now() + 5000);
      const fn = client[method] as unknown as (r: object, m: Metadata, o: object, cb: (e: ServiceError | null, r: { success: boolean }) => void) => void;
      fn.call(client, req, new Metadata(), { deadline }, (err, r) => (err ? reject(err) : resolve(r)));
    });
    if (!res.success) throw new Error(`${method} answered ${JSON.stringify(res)}`);
    return true;
  } finally {
    client.close();
  }
}

async function httpOk(port: number, path: string, headers: Record<string, string> = {}): Promise<boolean> {
  if (!(await accepts(port))) return false;
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

const message = (attempt: number) => ({ msgId: `bench-${tag}-${attempt}-${randomBytes(3).toString('hex')}`, senderId: SENDER, content: 'hello', timestamp: Date.now(), metadata: {} });

interface Sample {
  /** Spawn to the first successful request (or to exit 0 for the one-shot run). */
  readonly totalMs: number;
  /** Spawn to the HTTP port accepting connections: process start and function create(). */
  readonly listenMs?: number;
  /** CPU time (user + system) the function's process used until then: less sensitive to
   * the load of a shared machine than the wall time. Linux /proc only; 10 ms ticks. */
  readonly cpuMs?: number;
}

/** utime + stime of a live process in ms (clock ticks of 10 ms). */
function cpuMsOf(pid: number | undefined): number | undefined {
  const s = cpuSecondsOf(pid);
  return s === undefined ? undefined : Math.round(s * 1000);
}

async function measure(fn: string, args: string[], probe: Probe | 'exit', from = dist): Promise<Sample> {
  const ports = { http: await freePort(), grpc: await freePort() };
  const t0 = performance.now();
  let listenMs: number | undefined;
  const child: ChildProcess = spawn(NODE, [...NODE_ARGS, join(from, fn, 'index.js'), ...args], {
    env: { ...env, HTTP_PORT: String(ports.http), GRPC_PORT: String(ports.grpc) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    if (probe === 'exit') {
      const code = await exited;
      if (code !== 0) throw new Error(`${fn} exited ${code}: ${stderr}`);
      return { totalMs: performance.now() - t0 };
    }
    for (let attempt = 0; ; attempt++) {
      if (child.exitCode !== null) throw new Error(`${fn} exited ${child.exitCode}: ${stderr}`);
      if (listenMs === undefined && (await accepts(ports.http))) listenMs = performance.now() - t0;
      try {
        if (listenMs !== undefined && (await probe(ports, attempt))) {
          const totalMs = performance.now() - t0;
          const cpuMs = cpuMsOf(child.pid);
          return { totalMs, listenMs, ...(cpuMs !== undefined ? { cpuMs } : {}) };
        }
      } catch (err) {
        if (performance.now() - t0 > GIVE_UP_MS) throw err;
      }
      if (performance.now() - t0 > GIVE_UP_MS) throw new Error(`${fn}: no successful request within ${GIVE_UP_MS} ms; ${stderr}`);
      await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
    }
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  }
}

async function setUp(): Promise<void> {
  execFileSync(process.execPath, [join(repo, 'build.mjs')], { cwd: repo, env: { ...env, IM_DIST_DIR: dist }, stdio: 'ignore' });
  if (BASELINE === 'no-cache' && baselineDist) {
    rmSync(baselineDist, { recursive: true, force: true });
    cpSync(dist, baselineDist, { recursive: true });
  }
  if (COMPILE_CACHE) {
    for (const fn of FUNCTIONS) execFileSync(NODE, [join(dist, fn, 'index.js'), '--write-compile-cache'], { cwd: repo, env, stdio: 'ignore' });
  }
  execFileSync(process.execPath, [join(dist, 'migrate/index.js')], { cwd: repo, env, stdio: 'ignore' });
  const pool = createMysqlPool(config.db);
  const now = Date.now();
  await pool.query('INSERT INTO users (user_id, display_name, created_at, updated_at) VALUES (?, ?, ?, ?), (?, ?, ?, ?)', [SENDER, 'sender', now, now, RECIPIENT, 'recipient', now, now]);
  await pool.query('INSERT INTO `groups` (group_id, name, creator_id, member_count, created_at, updated_at) VALUES (?, ?, ?, 2, ?, ?)', [GROUP, 'bench', SENDER, now, now]);
  await pool.query('INSERT INTO group_members (group_id, user_id, role, joined_at) VALUES (?, ?, ?, ?), (?, ?, ?, ?)', [GROUP, SENDER, 'owner', now, GROUP, RECIPIENT, 'member', now]);
  await pool.end();
  const admin = createKafka(config.kafka, createLogger('silent')).admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: config.kafka.topics.offlineMsg, numPartitions: TOPICS.offline_msg.partitions },
      { topic: config.kafka.topics.groupMsg, numPartitions: TOPICS.group_msg.partitions },
    ],
  });
  await admin.disconnect();
}

async function tearDown(): Promise<void> {
  const pool = createMysqlPool(config.db);
  await pool.query(`DROP DATABASE IF EXISTS \`${config.db.name}\``).catch(() => undefined);
  await pool.end();
  const admin = createKafka(config.kafka, createLogger('silent')).admin();
  await admin.connect();
  await admin.deleteGroups([config.offlineWorker.consumerGroup, config.task.fanoutConsumerGroup]).catch(() => undefined);
  await admin.deleteTopics({ topics: [config.kafka.topics.offlineMsg, config.kafka.topics.groupMsg] }).catch(() => undefined);
  await admin.disconnect();
}

async function main(): Promise<void> {
  const token = await new JwtAuth(config.auth).sign(RECIPIENT);
  const cases: { fn: string; request: string; args: string[]; probe: Probe | 'exit' }[] = [
    { fn: 'route-private', request: 'gRPC RoutePrivateMessage', args: [], probe: (p, a) => grpcCall(p.grpc, 'routePrivateMessage', { ...message(a), recipientId: RECIPIENT }) },
    { fn: 'route-group', request: 'gRPC RouteGroupMessage', args: [], probe: (p, a) => grpcCall(p.grpc, 'routeGroupMessage', { ...message(a), groupId: GROUP }) },
    { fn: 'mark-read', request: 'HTTP GET unread/count', args: [], probe: (p) => httpOk(p.http, '/api/v1/messages/unread/count', { authorization: `Bearer ${token}` }) },
    { fn: 'persist-offline', request: '/ready (joined group)', args: [], probe: (p) => httpOk(p.http, '/ready') },
    { fn: 'fanout-group', request: '/ready (joined group)', args: [], probe: (p) => httpOk(p.http, '/ready') },
    { fn: 'cleanup-expired', request: '--once run, exit 0', args: ['--once'], probe: 'exit' },
  ];
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  // What any Node process costs here and now: spawn to exit of an empty script.
  const emptyStart = (withEnv: NodeJS.ProcessEnv): number => {
    const baseline: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      execFileSync(NODE, ['-e', ''], { env: withEnv });
      baseline.push(performance.now() - t);
    }
    return round(baseline.sort((a, b) => a - b)[2] as number);
  };
  const nodeBaselineMs = emptyStart(env);
  // The same with the machine's NODE_EXTRA_CA_CERTS, to show what leaving it out takes off.
  const nodeBaselineWithExtraCaMs = droppedExtraCa ? emptyStart(process.env) : undefined;
  const loadAtStart = loadavg()[0];
  console.log(`compile cache: ${COMPILE_CACHE ? 'written before the runs' : 'none (BENCH_COMPILE_CACHE=0)'}`);
  console.log(
    `node -e '' (spawn to exit, median of 5): ${nodeBaselineMs} ms` +
      `${nodeBaselineWithExtraCaMs !== undefined ? ` (${nodeBaselineWithExtraCaMs} ms with this shell's NODE_EXTRA_CA_CERTS, which the functions run without)` : ''}` +
      `; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
  );
  const results = [];
  for (const c of cases.filter((x) => only.length === 0 || only.includes(x.fn))) {
    await measure(c.fn, c.args, c.probe); // warm-up: disk cache, topic metadata
    if (baselineDist) await measure(c.fn, c.args, c.probe, baselineDist);
    const runs: Sample[] = [];
    const baseRuns: Sample[] = [];
    for (let i = 0; i < RUNS; i++) {
      runs.push(await measure(c.fn, c.args, c.probe));
      if (baselineDist) baseRuns.push(await measure(c.fn, c.args, c.probe, baselineDist));
    }
    const s = summary(runs);
    const b = baselineDist ? summary(baseRuns) : undefined;
    const row = {
      fn: c.fn,
      request: c.request,
      medianMs: s.median,
      minMs: s.min,
      maxMs: s.max,
      ...(s.listen !== undefined ? { listenMedianMs: s.listen } : {}),
      ...(s.cpu !== undefined ? { cpuMedianMs: s.cpu } : {}),
      samplesMs: s.samples,
      meetsTarget: s.median < TARGET_MS,
      ...(b ? { baseline: { medianMs: b.median, ...(b.cpu !== undefined ? { cpuMedianMs: b.cpu } : {}), samplesMs: b.samples } } : {}),
    };
    results.push(row);
    console.log(
      `${c.fn.padEnd(16)} ${String(row.medianMs).padStart(7)} ms median  (min ${s.min}, max ${s.max}` +
        `${s.listen !== undefined ? `; listening at ${s.listen}` : ''}${s.cpu !== undefined ? `; cpu ${s.cpu}` : ''})  ${c.request}` +
        `${row.meetsTarget ? '' : `  ABOVE ${TARGET_MS} ms`}${b ? `  | baseline ${b.median} ms${b.cpu !== undefined ? `, cpu ${b.cpu}` : ''}` : ''}`,
    );
  }
  const out = {
    benchmark: 'cold-start',
    date: new Date().toISOString(),
    targetMs: TARGET_MS,
    runs: RUNS,
    conditions: { node: execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim(), compileCache: COMPILE_CACHE, ...(BASELINE ? { baseline: BASELINE } : {}), cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), loadavg1mAtStart: loadAtStart, loadavg1m: loadavg()[0], nodeBaselineMs, ...(nodeBaselineWithExtraCaMs !== undefined ? { nodeBaselineWithExtraCaMs, nodeExtraCaCerts: 'dropped from the functions\' environment (BENCH_KEEP_EXTRA_CA=1 keeps it)' } : {}) },
    note: 'spawn of node dist/<fn>/index.js to the first successful request; servers already up; shared 2-core machine; cpuMedianMs: CPU time of the function process until then (all threads)',
    results,
  };
  mkdirSync(join(repo, 'bench/results'), { recursive: true });
  writeFileSync(join(repo, 'bench/results/cold-start.json'), `${JSON.stringify(out, null, 2)}\n`);
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

function summary(runs: Sample[]) {
  const mid = (xs: number[]): number | undefined => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const total = runs.map((r) => r.totalMs).sort((a, b) => a - b);
  const listen = mid(runs.flatMap((r) => (r.listenMs === undefined ? [] : [r.listenMs])));
  return {
    median: round(mid(total) as number),
    min: round(total[0] as number),
    max: round(total[total.length - 1] as number),
    listen: listen === undefined ? undefined : round(listen),
    cpu: mid(runs.flatMap((r) => (r.cpuMs === undefined ? [] : [r.cpuMs]))),
    samples: total.map(round),
  };
}

setUp()
  .then(main)
  .catch((err: unknown) => {
    console.error(`cold-start failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  })
  .finally(() => tearDown().catch(() => undefined));
