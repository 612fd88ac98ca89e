/**
 * Benchmark of route-private (`npm run bench -- route-private`): ghz (a real gRPC load
 * generator, installed pinned by scripts/bench-tools.sh) at fixed concurrency against
 * the function's own bundle running as a separate process (`node
 * dist/route-private/index.js`), with the real Redis, etcd, Kafka and MySQL of the local
 * stack and a gateway server in a third process. Two measured phases, each after a
 * warm-up: online recipients (fast path: registry + push, then offline_msg as
 * OFFLINE_STORE_POLICY=always asks) and offline recipients (offline_msg only). Every
 * request has a unique msg_id (`{{newUUID}}`). Prints throughput, p50, p99 and CPU per
 * process; writes bench/results/route-private.json.
 *
 * Knobs (env): BENCH_SECONDS (30), BENCH_WARMUP_SECONDS (5), BENCH_CONCURRENCY (64),
 * BENCH_CONNECTIONS (4), BENCH_USERS (1000 recipients per phase), BENCH_SENDERS (10),
 * BENCH_PROFILE=1 (run the function under --cpu-prof and print where its time goes).
 * Everything it creates (topic, users, reservation rows, Redis keys, etcd keys) has a
 * random run id and is deleted at the end.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createKafka } from '../shared/bus/kafka';
import { loadConfig } from '../shared/config';
import { createLogger } from '../shared/observability/logger';
import { createEtcd, GatewayRegistration } from '../shared/registry';
import { createMysqlPool } from '../shared/storage/mysql';
import { createRedis } from '../shared/storage/redis';
import { TestGateway } from '../test/support/gateway-server';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 30);
const WARMUP = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 5);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 64);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 4);
const USERS = Number(process.env['BENCH_USERS'] ?? 1000);
const SENDERS = Number(process.env['BENCH_SENDERS'] ?? 10);
const PROFILE = process.env['BENCH_PROFILE'] === '1';

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
  readonly devicePushes: number;
  readonly cpuCores: Record<string, number>;
}

if (process.argv[2] === '--gateway') {
  void gatewayProcess();
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
  process.on('SIGTERM', () => {
    process.stdout.write(`DELIVERED ${gw.delivered}\n`);
    void gw.stop().then(() => process.exit(0));
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

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
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
  execFileSync(process.execPath, [join(root, 'build.mjs'), 'route-private'], { cwd: root, stdio: 'ignore' });

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
  const profileDir = mkdtempSync(join(tmpdir(), 'rp-prof-'));
  let profileTop: { selfPercent: number; what: string }[] = [];
  const load = { before: loadavg().map((l) => round(l)) };
  let stopping = false;
  try {
    const gatewayChild = spawn(process.execPath, [__filename, '--gateway'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(gatewayChild);
    const gatewayAddress = `127.0.0.1:${await waitForLine(gatewayChild, 'GATEWAY ')}`;
    registration = new GatewayRegistration({ etcd, config: { ...config.registry, prefix: registryPrefix }, gatewayAddress });
    for (let i = 0; i < online.length; i += 50) {
      await Promise.all(online.slice(i, i + 50).map((u) => registration?.register(u, 'phone')));
    }

    const grpcPort = await freePort();
    const httpPort = await freePort();
    const fnChild = spawn(
      process.execPath,
      [...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), join(root, 'dist/route-private/index.js')],
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
    const ghzRun = async (recipients: string, seconds: number): Promise<GhzReport> => {
      const data = JSON.stringify({
        msg_id: '{{newUUID}}',
        sender_id: `${run}-s{{randomInt 0 ${SENDERS}}}`,
        recipient_id: `${run}-${recipients}-{{randomInt 0 ${USERS}}}`,
        content: 'Hello! A chat message of an ordinary size, with a few words and an emoji 🙂.',
        timestamp: 1_700_000_000_000,
        metadata: { content_type: 'text/plain' },
      });
      const out = join(profileDir, `ghz-${recipients}-${seconds}.json`);
      // Asynchronously: this process keeps the gateway's registry lease alive meanwhile.
      await execFileAsync(
        ghz,
        [
          '--insecure',
          `--proto=${proto}`,
          '--call=im.v1.IMService.RoutePrivateMessage',
          `--concurrency=${CONCURRENCY}`,
          `--connections=${CONNECTIONS}`,
          `--duration=${seconds}s`,
          '--timeout=5s',
          '--duration-stop=wait',
          `--data=${data}`,
          '--format=json',
          `--output=${out}`,
          `127.0.0.1:${grpcPort}`,
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      return JSON.parse(readFileSync(out, 'utf8')) as GhzReport;
    };

    for (const [phase, recipients] of [
      ['online', 'on'],
      ['offline', 'off'],
    ] as const) {
      await ghzRun(recipients, WARMUP);
      const m0 = await metricsOf(httpPort);
      const k0 = await topicCount(admin, topic);
      const c0 = { fn: cpuSeconds(fnChild.pid), gateway: cpuSeconds(gatewayChild.pid) };
      const childCpu0 = childrenCpu();
      const t0 = Date.now();
      const report = await ghzRun(recipients, SECONDS);
      const wall = (Date.now() - t0) / 1000;
      const m1 = await metricsOf(httpPort);
      const k1 = await topicCount(admin, topic);
      const ghzCpu = childrenCpu() - childCpu0;
      const pct = (p: number): number =>
        round((report.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? NaN) / 1e6, 2);
      const routed: Record<string, number> = {};
      for (const k of Object.keys(m1)) {
        const d = (m1[k] ?? 0) - (m0[k] ?? 0);
        if (d !== 0) routed[k] = d;
      }
      const ok = report.statusCodeDistribution['OK'] ?? 0;
      results.push({
        phase,
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
        devicePushes: routed['push_delivered'] ?? 0,
        cpuCores: {
          'route-private': round((cpuSeconds(fnChild.pid) - c0.fn) / wall),
          gateway: round((cpuSeconds(gatewayChild.pid) - c0.gateway) / wall),
          ghz: round(ghzCpu / wall),
        },
      });
      const r = results.at(-1) as PhaseResult;
      console.log(
        `${phase.padEnd(8)} ${String(r.msgsPerSecond).padStart(6)} msgs/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  ` +
          `(${r.ok}/${r.requests} ok, kafka +${r.kafkaRecords}, pushes +${r.devicePushes}, ` +
          `cpu fn ${r.cpuCores['route-private']} gw ${r.cpuCores['gateway']} ghz ${r.cpuCores['ghz']} cores)`,
      );
      if (Object.keys(r.errors).length > 0) console.log('  errors:', r.errors);
    }
    if (PROFILE) {
      stopping = true;
      fnChild.kill('SIGTERM');
      await new Promise((r) => fnChild.once('exit', r));
      profileTop = summariseProfile(profileDir);
      console.log('route-private CPU profile, self time:');
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
      processes: 'ghz, route-private (node dist/route-private/index.js), gateway server and the stack share the machine',
    },
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
function childrenCpu(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  // cutime, cstime: fields 16 and 17 of stat, i.e. 13 and 14 after the ") " split.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}
