/**
 * Benchmark of route-private (`npm run bench -- route-private`): ghz (a real gRPC load
 * generator, installed pinned by scripts/bench-tools.sh) at fixed concurrency against
 * the function's own bundle running as a separate process (`node
 * dist/route-private/index.js`), with the real Redis, etcd, Kafka and MySQL of the local
 * stack and a gateway server in a third process. Two measured phases, each after a
 * warm-up (one message per sender/recipient pair, so every conversation exists, then
 * BENCH_WARMUP_SECONDS of load): online recipients (fast path: registry + push, then offline_msg as
 * OFFLINE_STORE_POLICY=always asks) and offline recipients (offline_msg only). Before
 * them, the same ghz load against a floor: the project's gRPC runtime with a handler
 * that answers at once, i.e. what this machine allows any router at the moment. Every
 * request has a unique msg_id (ghz's per-call `{{.UUID}}`); sender and recipient go round
 * robin over every pair in a random order. Prints throughput, p50, p99 and CPU per
 * process; writes bench/results/route-private.json.
 *
 * Knobs (env): BENCH_SECONDS (30), BENCH_WARMUP_SECONDS (5), BENCH_CONCURRENCY (64),
 * BENCH_CONNECTIONS (4), BENCH_USERS (1000 recipients per phase), BENCH_SENDERS (10),
 * BENCH_PROFILE=1 (run the function under --cpu-prof and print where its time goes),
 * BENCH_FN_DIST (a dist folder already holding route-private/index.js: skip the build),
 * BENCH_FLOOR=0 (skip the floor phase: ghz against a handler that answers at once),
 * BENCH_PHASES (online,offline: which of the router's phases to run).
 * Everything it creates (topic, users, reservation rows, Redis keys, etcd keys) has a
 * random run id and is deleted at the end.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createKafka } from '../shared/bus/kafka';
import { loadConfig } from '../shared/config';
import { createLogger } from '../shared/observability/logger';
import { createEtcd, GatewayRegistration } from '../shared/registry';
import {
  IMServiceService,
  type GetMessageStatusRequest,
  type GetMessageStatusResponse,
  type RoutePrivateMessageRequest,
  type RoutePrivateMessageResponse,
} from '../shared/gen/im/v1/im';
import { createMetrics } from '../shared/observability/metrics';
import { installPropagator } from '../shared/observability/tracing';
import { startGrpcServer, unary } from '../shared/runtime/grpc';
import { createMysqlPool } from '../shared/storage/mysql';
import { createRedis } from '../shared/storage/redis';
import { TestGateway } from '../test/support/gateway-server';
import { cpuSecondsOf, ownCpuSeconds } from './lib/proc-stat';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 30);
const WARMUP = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 5);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 64);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 4);
const USERS = Number(process.env['BENCH_USERS'] ?? 1000);
const SENDERS = Number(process.env['BENCH_SENDERS'] ?? 10);
const PROFILE = process.env['BENCH_PROFILE'] === '1';
const FLOOR = process.env['BENCH_FLOOR'] !== '0';
const PHASES = (process.env['BENCH_PHASES'] ?? 'online,offline').split(',');

const root = join(__dirname, '../../..');
const execFileAsync = promisify(execFile);
const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;

interface GhzReport {
  count: number;
  total: number;
  rps: number;
  average: number;
  latencyDistribution: { percentage: number; latency: number }[] | null;
  statusCodeDistribution: Record<string, number>;
  errorDistribution: Record<string, number> | null;
}

interface PhaseResult {
  readonly phase: string;
  /** The pass of one message per pair before the warm-up: every conversation is new (sequence state from MySQL). */
  readonly firstMessages: { requests: number; ok: number; msgsPerSecond: number; p50Ms: number; p99Ms: number };
  readonly seconds: number;
  readonly requests: number;
  readonly ok: number;
  readonly errors: Record<string, number>;
  readonly msgsPerSecond: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly averageMs: number;
  readonly routed: Record<string, number>;
  readonly kafkaRecords: number;
  /** Produce requests the function made for offline_msg (LoadBatcher sends) and records per request. */
  readonly kafkaProduceRequests: number;
  readonly kafkaRecordsPerRequest: number;
  /** Script calls (EVALSHA/EVAL: round trips) Redis served during the phase per message; server-wide, so other clients count too. */
  readonly redisCallsPerMessage: number;
  readonly devicePushes: number;
  /** Calls the gateway server received (one PushBatch carries many messages). */
  readonly gatewayCalls: number;
  /** CPU (user + system) route-private used per answered message. */
  readonly cpuUsPerMessage: number;
  readonly cpuCores: Record<string, number>;
}

if (process.argv[2] === '--gateway') {
  void gatewayProcess();
} else if (process.argv[2] === '--floor') {
  void floorProcess();
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

/** The gateway: a GatewayService server that counts pushes; prints its port, exits on SIGTERM. */
async function gatewayProcess(): Promise<void> {
  const gw = await TestGateway.start();
  gw.behaviour.record = false;
  process.stdout.write(`GATEWAY ${gw.port}\n`);
  // The bench asks for the calls received so far around each phase.
  process.on('SIGUSR2', () => process.stdout.write(`CALLS ${gw.calls}\n`));
  process.on('SIGTERM', () => {
    process.stdout.write(`DELIVERED ${gw.delivered}\n`);
    void gw.stop().then(() => process.exit(0));
  });
}

/**
 * The floor: RoutePrivateMessage served through the same runtime wrapper (unary(), the
 * trace context, the error mapping) by a handler that answers at once. What ghz gets
 * out of it on this machine at this moment bounds what any router could reach here.
 */
async function floorProcess(): Promise<void> {
  installPropagator();
  const deps = { logger: createLogger('warn'), metrics: createMetrics(), fn: 'floor' };
  const answer: RoutePrivateMessageResponse = { success: true, status: 'offline', sequenceNumber: 1, errorMessage: '' };
  const { server, port } = await startGrpcServer(
    [
      {
        definition: IMServiceService,
        implementation: {
          routePrivateMessage: unary<RoutePrivateMessageRequest, RoutePrivateMessageResponse>('RoutePrivateMessage', async () => answer, deps),
          getMessageStatus: unary<GetMessageStatusRequest, GetMessageStatusResponse>(
            'GetMessageStatus',
            async () => ({ status: 'pending', deliveredAt: 0, readAt: 0, deliveredDevices: [] }),
            deps,
          ),
        },
      },
    ],
    0,
  );
  process.stdout.write(`FLOOR ${port}\n`);
  process.on('SIGTERM', () => {
    server.forceShutdown();
    process.exit(0);
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function waitForLine(child: ChildProcess, prefix: string, timeoutMs = 20000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no "${prefix}" line within ${timeoutMs}ms`)), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const line = buf.split('\n').find((l) => l.startsWith(prefix));
      if (line) {
        clearTimeout(timer);
        resolve(line.slice(prefix.length).trim());
      }
    });
  });
}

/** The local stack's servers (their CPU is shown beside ours; other users of the stack count too). */
function stackPids(): Record<string, number> {
  const wanted: Record<string, (cmdline: string) => boolean> = {
    redis: (c) => c.startsWith('/usr/bin/redis-server') || c.startsWith('redis-server'),
    kafka: (c) => c.includes('java') && c.includes('kafka'),
    mysql: (c) => c.includes('mariadbd') || c.includes('mysqld'),
    etcd: (c) => /(^|\/)etcd\s/.test(c),
  };
  const out: Record<string, number> = {};
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    for (const [name, match] of Object.entries(wanted)) if (out[name] === undefined && match(cmdline)) out[name] = Number(entry);
  }
  return out;
}

/** CPU seconds (user + system) a process has used so far; 0 when unknown. */
const cpuSeconds = (pid: number | undefined): number => cpuSecondsOf(pid) ?? 0;

async function offlinePublishOf(httpPort: number): Promise<{ sends: number; records: number }> {
  const stats = (await (await fetch(`http://127.0.0.1:${httpPort}/stats`, { keepalive: false, headers: { connection: 'close' } })).json()) as {
    routePrivate?: { offlinePublish?: { sends: number; records: number } };
  };
  return stats.routePrivate?.offlinePublish ?? { sends: 0, records: 0 };
}

/**
 * Script calls the Redis server has served so far (INFO commandstats, every client):
 * everything route-private sends is a script, and the commands a script runs are
 * counted apart, so this counts round trips.
 */
async function redisCommands(redis: ReturnType<typeof createRedis>): Promise<number> {
  const info = await redis.info('commandstats');
  let n = 0;
  for (const m of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) n += Number(m[1]);
  return n;
}

async function metricsOf(httpPort: number): Promise<Record<string, number>> {
  // A fresh connection each time: a kept-alive one may be closed by the server just as it is reused.
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`, { keepalive: false, headers: { connection: 'close' } })).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^im_service_messages_routed_total\{type="private",path="(\w+)"\} (\d+)/gm)) out[`routed_${m[1]}`] = Number(m[2]);
  for (const m of text.matchAll(/^im_service_gateway_pushes_total\{outcome="(\w+)"\} (\d+)/gm)) out[`push_${m[1]}`] = Number(m[2]);
  for (const m of text.matchAll(/^im_service_errors_total\{fn="route-private",code="(\w+)"\} (\d+)/gm)) out[`error_${m[1]}`] = Number(m[2]);
  return out;
}

function summariseProfile(dir: string): { selfPercent: number; what: string }[] {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return [];
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: { id: number; hitCount: number; callFrame: { functionName: string; url: string } }[];
  };
  const byWhat = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    total += n.hitCount;
    const url = n.callFrame.url;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
    const where = pkg ? `[${pkg}]` : url.startsWith('node:') ? `[${url}]` : url === '' ? '' : '[app]';
    const what = `${n.callFrame.functionName || '(anonymous)'} ${where}`.trim();
    byWhat.set(what, (byWhat.get(what) ?? 0) + n.hitCount);
  }
  return [...byWhat]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([what, hits]) => ({ what, selfPercent: round((100 * hits) / Math.max(1, total), 1) }));
}

async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn' });
  const run = `bench-${randomBytes(4).toString('hex')}`;
  const topic = `bench-offline-${run}`;
  const registryPrefix = `/im-bench/${run}/`;
  const redisPrefix = `${run}:`;
  const logger = createLogger('warn');

  console.log(`route-private benchmark ${run}: ${SECONDS}s per phase after ${WARMUP}s warm-up, concurrency ${CONCURRENCY}`);
  const ghz = execFileSync(join(root, 'scripts/bench-tools.sh'), { encoding: 'utf8' }).trim();
  // `go install` builds report "dev"; the install script stamps the pinned version beside the binary.
  const ghzVersion = readFileSync(join(ghz, '../.ghz.version'), 'utf8').trim();
  // Built away from the shared dist/, which others rebuild concurrently; BENCH_FN_DIST
  // names an already built dist folder instead (e.g. one built unminified for profiling).
  const dist = process.env['BENCH_FN_DIST'] ?? mkdtempSync(join(tmpdir(), 'rp-dist-'));
  if (process.env['BENCH_FN_DIST'] === undefined) {
    execFileSync(process.execPath, [join(root, 'build.mjs'), 'route-private'], {
      cwd: root,
      env: { ...process.env, IM_DIST_DIR: dist },
      stdio: 'ignore',
    });
  }

  const kafka = createKafka(config.kafka, logger, `bench-${run}`);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 8, replicationFactor: 1 }], waitForLeaders: true });
  const mysql = createMysqlPool({ ...config.db, maxOpenConns: 2 });
  const redis = createRedis(config.redis, { keyPrefix: '' });
  const etcd = createEtcd(config.etcd);
  const now = Date.now();
  const online = Array.from({ length: USERS }, (_, i) => `${run}-on-${i}`);
  const offline = Array.from({ length: USERS }, (_, i) => `${run}-off-${i}`);
  await mysql.query('INSERT INTO users (user_id, display_name, created_at, updated_at) VALUES ?', [
    [...online, ...offline].map((u) => [u, u, now, now]),
  ]);

  const children: ChildProcess[] = [];
  let registration: GatewayRegistration | undefined;
  const results: PhaseResult[] = [];
  let floorResult: Record<string, unknown> | undefined;
  const profileDir = mkdtempSync(join(tmpdir(), 'rp-prof-'));
  let profileTop: { selfPercent: number; what: string }[] = [];
  const load = { before: loadavg().map((l) => round(l)) };
  let stopping = false;
  try {
    const gatewayChild = spawn(process.execPath, [__filename, '--gateway'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(gatewayChild);
    const gatewayAddress = `127.0.0.1:${await waitForLine(gatewayChild, 'GATEWAY ')}`;
    let gatewayCallsSeen = { n: 0, at: 0 };
    let gatewayBuf = '';
    gatewayChild.stdout?.on('data', (chunk: Buffer) => {
      gatewayBuf += chunk.toString();
      const lines = gatewayBuf.split('\n');
      gatewayBuf = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('CALLS ')) gatewayCallsSeen = { n: Number(l.slice(6)), at: gatewayCallsSeen.at + 1 };
    });
    /** Calls the gateway server has received so far (PushMessage and PushBatch). */
    const gatewayCalls = async (): Promise<number> => {
      const before = gatewayCallsSeen.at;
      gatewayChild.kill('SIGUSR2');
      for (let i = 0; i < 100 && gatewayCallsSeen.at === before; i++) await new Promise((r) => setTimeout(r, 20));
      return gatewayCallsSeen.n;
    };
    registration = new GatewayRegistration({ etcd, config: { ...config.registry, prefix: registryPrefix }, gatewayAddress });
    for (let i = 0; i < online.length; i += 50) {
      await Promise.all(online.slice(i, i + 50).map((u) => registration?.register(u, 'phone')));
    }

    const grpcPort = await freePort();
    const httpPort = await freePort();
    const fnChild = spawn(
      process.execPath,
      [...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), join(dist, 'route-private/index.js')],
      {
        cwd: root,
        env: {
          ...process.env,
          GRPC_PORT: String(grpcPort),
          HTTP_PORT: String(httpPort),
          REGISTRY_PREFIX: registryPrefix,
          REDIS_KEY_PREFIX: redisPrefix,
          KAFKA_TOPIC_OFFLINE_MSG: topic,
          LOG_LEVEL: process.env['BENCH_FN_LOG_LEVEL'] ?? 'warn',
          KAFKAJS_NO_PARTITIONER_WARNING: '1',
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    children.push(fnChild);
    fnChild.once('exit', (code, signal) => {
      if (!stopping) console.error(`route-private exited early: code ${code} signal ${signal}`);
    });
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://127.0.0.1:${httpPort}/ready`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 200) throw new Error('route-private did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }

    const proto = join(root, 'proto/im/v1/im.proto');
    // Every (sender, recipient) pair once, in random order; ghz takes them round robin and
    // fills a fresh UUID into each call's msg_id. Template functions stay off: ghz then
    // builds no per-call function map, which otherwise costs it more CPU than a message
    // costs the router (its own docs: "useful for better performance").
    const dataFile = (recipients: string): string => {
      const pairs: object[] = [];
      for (let s = 0; s < SENDERS; s++) {
        for (let u = 0; u < USERS; u++) {
          pairs.push({
            msg_id: '{{.UUID}}',
            sender_id: `${run}-s${s}`,
            recipient_id: `${run}-${recipients}-${u}`,
            content: 'Hello! A chat message of an ordinary size, with a few words and an emoji 🙂.',
            timestamp: 1_700_000_000_000,
            metadata: { content_type: 'text/plain' },
          });
        }
      }
      for (let i = pairs.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [pairs[i], pairs[j]] = [pairs[j] as object, pairs[i] as object];
      }
      const file = join(profileDir, `data-${recipients}.json`);
      writeFileSync(file, JSON.stringify(pairs));
      return file;
    };
    const dataFiles = { on: dataFile('on'), off: dataFile('off') };
    /** ghz for `seconds`, or for exactly `total` requests when given. */
    const ghzRun = async (recipients: 'on' | 'off', seconds: number, port = grpcPort, total?: number): Promise<GhzReport> => {
      const out = join(profileDir, `ghz-${recipients}-${seconds}-${total ?? 0}.json`);
      // Asynchronously: this process keeps the gateway's registry lease alive meanwhile.
      await execFileAsync(
        ghz,
        [
          '--insecure',
          `--proto=${proto}`,
          '--call=im.v1.IMService.RoutePrivateMessage',
          `--concurrency=${CONCURRENCY}`,
          `--connections=${CONNECTIONS}`,
          ...(total === undefined ? [`--duration=${seconds}s`, '--duration-stop=wait'] : [`--total=${total}`]),
          '--timeout=5s',
          `--data-file=${dataFiles[recipients]}`,
          '--disable-template-functions',
          '--format=json',
          `--output=${out}`,
          `127.0.0.1:${port}`,
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      return JSON.parse(readFileSync(out, 'utf8')) as GhzReport;
    };

    if (FLOOR) {
      const floorChild = spawn(process.execPath, [__filename, '--floor'], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(floorChild);
      const floorPort = Number(await waitForLine(floorChild, 'FLOOR '));
      await ghzRun('off', WARMUP, floorPort);
      const c0 = cpuSeconds(floorChild.pid);
      const childCpu0 = childrenCpu();
      const t0 = Date.now();
      const report = await ghzRun('off', SECONDS, floorPort);
      const wall = (Date.now() - t0) / 1000;
      const floorCpu = cpuSeconds(floorChild.pid) - c0;
      const cpu = { floor: round(floorCpu / wall), ghz: round((childrenCpu() - childCpu0) / wall) };
      floorChild.kill('SIGTERM');
      const ok = report.statusCodeDistribution['OK'] ?? 0;
      const pct = (p: number): number =>
        round((report.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? NaN) / 1e6, 2);
      floorResult = {
        phase: 'floor',
        seconds: round(report.total / 1e9, 2),
        requests: report.count,
        ok,
        msgsPerSecond: round(ok / (report.total / 1e9), 0),
        p50Ms: pct(50),
        p99Ms: pct(99),
        cpuCores: cpu,
        cpuUsPerMessage: round((floorCpu * 1e6) / Math.max(1, ok), 0),
      };
      console.log(
        `floor    ${String(floorResult.msgsPerSecond).padStart(6)} msgs/s  p50 ${floorResult.p50Ms} ms  p99 ${floorResult.p99Ms} ms  ` +
          `(a handler that answers at once; ${floorResult['cpuUsPerMessage']} µs CPU per call; cpu cores: floor ${cpu.floor}, ghz ${cpu.ghz})`,
      );
    }

    for (const [phase, recipients] of (
      [
        ['online', 'on'],
        ['offline', 'off'],
      ] as const
    ).filter(([phase]) => PHASES.includes(phase))) {
      // One message per (sender, recipient) pair first: each conversation's sequence state
      // is created (the MySQL reservation of a new conversation) before the measurement,
      // which then measures messages of existing conversations.
      const first = await ghzRun(recipients, 0, grpcPort, SENDERS * USERS);
      await ghzRun(recipients, WARMUP);
      const m0 = await metricsOf(httpPort);
      const k0 = await topicCount(admin, topic);
      const p0 = await offlinePublishOf(httpPort);
      const r0 = await redisCommands(redis);
      const g0 = await gatewayCalls();
      const c0 = { fn: cpuSeconds(fnChild.pid), gateway: cpuSeconds(gatewayChild.pid) };
      let fnCpu = 0;
      const stack = stackPids();
      const s0 = Object.fromEntries(Object.entries(stack).map(([name, pid]) => [name, cpuSeconds(pid)]));
      const childCpu0 = childrenCpu();
      const t0 = Date.now();
      const report = await ghzRun(recipients, SECONDS);
      const wall = (Date.now() - t0) / 1000;
      fnCpu = cpuSeconds(fnChild.pid) - c0.fn;
      const r1 = await redisCommands(redis);
      const g1 = await gatewayCalls();
      const m1 = await metricsOf(httpPort);
      const k1 = await topicCount(admin, topic);
      const p1 = await offlinePublishOf(httpPort);
      const ghzCpu = childrenCpu() - childCpu0;
      const pct = (p: number): number =>
        round((report.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? NaN) / 1e6, 2);
      const routed: Record<string, number> = {};
      for (const k of Object.keys(m1)) {
        const d = (m1[k] ?? 0) - (m0[k] ?? 0);
        if (d !== 0) routed[k] = d;
      }
      const ok = report.statusCodeDistribution['OK'] ?? 0;
      const firstOk = first.statusCodeDistribution['OK'] ?? 0;
      const firstPct = (p: number): number =>
        round((first.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? NaN) / 1e6, 2);
      results.push({
        phase,
        firstMessages: {
          requests: first.count,
          ok: firstOk,
          msgsPerSecond: round(firstOk / (first.total / 1e9), 0),
          p50Ms: firstPct(50),
          p99Ms: firstPct(99),
        },
        seconds: round(report.total / 1e9, 2),
        requests: report.count,
        ok,
        errors: report.errorDistribution ?? {},
        msgsPerSecond: round(ok / (report.total / 1e9), 0),
        p50Ms: pct(50),
        p90Ms: pct(90),
        p99Ms: pct(99),
        averageMs: round(report.average / 1e6, 2),
        routed,
        kafkaRecords: k1 - k0,
        kafkaProduceRequests: p1.sends - p0.sends,
        kafkaRecordsPerRequest: round((p1.records - p0.records) / Math.max(1, p1.sends - p0.sends), 1),
        redisCallsPerMessage: round((r1 - r0) / Math.max(1, ok), 2),
        devicePushes: routed['push_delivered'] ?? 0,
        gatewayCalls: g1 - g0,
        cpuUsPerMessage: round((fnCpu * 1e6) / Math.max(1, ok), 0),
        cpuCores: {
          'route-private': round(fnCpu / wall),
          gateway: round((cpuSeconds(gatewayChild.pid) - c0.gateway) / wall),
          ghz: round(ghzCpu / wall),
          ...Object.fromEntries(Object.entries(stack).map(([name, pid]) => [name, round((cpuSeconds(pid) - (s0[name] ?? 0)) / wall)])),
        },
      });
      const r = results.at(-1) as PhaseResult;
      console.log(
        `${phase.padEnd(8)} ${String(r.msgsPerSecond).padStart(6)} msgs/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  ` +
          `${r.cpuUsPerMessage} µs CPU per message ` +
          `(${r.ok}/${r.requests} ok, kafka +${r.kafkaRecords} in ${r.kafkaProduceRequests} produce requests, ` +
          `redis ${r.redisCallsPerMessage} calls/msg, pushes +${r.devicePushes} in ${r.gatewayCalls} gateway calls, ` +
          `cpu cores: ${Object.entries(r.cpuCores).map(([k, v]) => `${k} ${v}`).join(', ')})`,
      );
      console.log(
        `         first message of each of ${r.firstMessages.requests} conversations: ${r.firstMessages.msgsPerSecond} msgs/s, ` +
          `p50 ${r.firstMessages.p50Ms} ms, p99 ${r.firstMessages.p99Ms} ms (${r.firstMessages.ok} ok)`,
      );
      if (Object.keys(r.errors).length > 0) console.log('  errors:', r.errors);
    }
    if (PROFILE) {
      stopping = true;
      fnChild.kill('SIGTERM');
      await new Promise((r) => fnChild.once('exit', r));
      profileTop = summariseProfile(profileDir);
      console.log(`route-private CPU profile (${profileDir}), self time:`);
      for (const p of profileTop) console.log(`  ${String(p.selfPercent).padStart(5)}%  ${p.what}`);
    }
  } finally {
    stopping = true;
    for (const c of children) c.kill('SIGTERM');
    await registration?.close().catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    await mysql.query('DELETE FROM users WHERE user_id LIKE ?', [`${run}-%`]);
    await mysql.query('DELETE FROM sequence_reservations WHERE conversation_id LIKE ?', [`%${run}-%`]);
    await mysql.end();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
    await etcd.delete().prefix(registryPrefix).catch(() => undefined);
    etcd.close();
    // The profile stays for a closer look; the data files, ghz reports and our build go.
    if (!PROFILE) rmSync(profileDir, { recursive: true, force: true });
    if (process.env['BENCH_FN_DIST'] === undefined) rmSync(dist, { recursive: true, force: true });
  }

  const result = {
    benchmark: 'route-private',
    at: new Date().toISOString(),
    target: { msgsPerSecond: 5000, p99Ms: 20 },
    conditions: {
      machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGb: round(totalmem() / 2 ** 30, 1) },
      loadavgBefore: load.before,
      loadavgAfter: loadavg().map((l) => round(l)),
      node: process.version,
      ghz: ghzVersion,
      concurrency: CONCURRENCY,
      connections: CONNECTIONS,
      secondsPerPhase: SECONDS,
      warmupSeconds: WARMUP,
      recipientsPerPhase: USERS,
      senders: SENDERS,
      devicesPerOnlineRecipient: 1,
      offlineStorePolicy: config.messages.offlineStorePolicy,
      filter: { enabled: config.filter.enabled, action: config.filter.action },
      encryption: config.encryption.enabled,
      processes:
        'ghz, route-private (node dist/route-private/index.js), gateway server and the stack share the machine ' +
        '(cpuCores of redis, kafka, mysql, etcd include any other client of the local stack)',
    },
    floor: floorResult,
    phases: results,
    profile: profileTop,
  };
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/route-private.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log('wrote bench/results/route-private.json');
  process.exit(0);
}

async function topicCount(admin: import('kafkajs').Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
}

/** CPU seconds used by this process's terminated children (ghz runs to completion). */
const childrenCpu = (): number => ownCpuSeconds().children;
