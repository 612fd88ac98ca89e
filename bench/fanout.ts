/**
 * Benchmark of group fanout (`npm run bench -- fanout`): time from RouteGroupMessage to
 * the last PushBatch a gateway receives, for groups of 100, 1,000, 10,000 and 50,000
 * members with 30% of members online (one device each) across 8 gateways.
 *
 * route-group and fanout-group run together in this process (one host, as in `npm
 * start`) against the real MariaDB, Redis, etcd and Kafka of the local stack; the 8
 * gateways are real gRPC servers in a child process (so their work is not counted
 * against fanout's CPU), which reports when each call arrived. Per group size: one cold
 * message (the registry cache empty: every member read from etcd), then BENCH_RUNS warm
 * ones, taken in rounds across the sizes (a load swing hits every size alike); the
 * figures are the warm median and best, deliveries/s = devices / time. Also per
 * message: the handler's whole batch time (until its OFFLINE_PUSH tasks are published),
 * this process's CPU, and the PushBatch calls the gateways received.
 *
 * The curve: ms and ms per 1,000 members per size, the marginal ms per 1,000 extra
 * members between consecutive sizes, a least-squares line (fixed ms + ms per 1,000), and
 * a linearity verdict: linear when the last step's marginal cost is at most LINEAR_RATIO
 * times the step before's (10,000 -> 50,000 against 1,000 -> 10,000 by default); the same
 * for CPU. Writes bench/results/fanout.json with the conditions (load before and after).
 *
 * Knobs (env): BENCH_SIZES (100,1000,10000,50000), BENCH_RUNS (5), BENCH_ONLINE (0.3),
 * BENCH_GATEWAYS (8), and any product variable (FANOUT_BATCH_SIZE, FANOUT_PAGE_CONCURRENCY,
 * PUSH_NOTIFICATION_ENABLED…). Everything created carries a random run id and is
 * deleted at the end.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { createKafka } from '../shared/bus/kafka';
import { loadConfig } from '../shared/config';
import { IMServiceClient, type RouteGroupMessageResponse } from '../shared/gen/im/v1/im';
import { createLogger } from '../shared/observability/logger';
import { createEtcd, RegistryKeys } from '../shared/registry';
import { encodeRecord } from '../shared/registry/record';
import { Host } from '../shared/runtime/host';
import { createMysqlPool } from '../shared/storage/mysql';
import { createRedis } from '../shared/storage/redis';
import { fanoutGroup } from '../functions/fanout-group/function';
import { routeGroup } from '../functions/route-group/function';
import { TestGateway } from '../test/support/gateway-server';

const SIZES = (process.env['BENCH_SIZES'] ?? '100,1000,10000,50000').split(',').map(Number);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const ONLINE = Number(process.env['BENCH_ONLINE'] ?? 0.3);
const GATEWAYS = Number(process.env['BENCH_GATEWAYS'] ?? 8);

const root = join(__dirname, '../../..');
const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** The largest step's marginal cost may exceed the previous step's by this much and still count as linear. */
const LINEAR_RATIO = 1.5;

interface SizeResult {
  members: number;
  devices: number;
  coldMs: number;
  warmMedianMs: number;
  warmBestMs: number;
  warmRunsMs: number[];
  routeAvgMs: number;
  deliveriesPerSecond: number;
  msPer1000Members: number;
  batchMedianMs: number;
  cpuMedianMs: number;
  cpuMsPer1000Members: number;
  pushCallsPerMessage: number;
}

interface Linearity {
  /** Least-squares line through (members, ms): intercept and slope per 1,000 members. */
  fixedMs: number;
  msPer1000: number;
  r2: number;
  /** (ms[i+1] - ms[i]) per 1,000 extra members, per step between consecutive sizes. */
  marginalMsPer1000: number[];
  /** Last step's marginal cost / the step before's (needs three sizes). */
  lastStepRatio: number | null;
  linear: boolean | null;
}

/** Whether cost grows linearly with members: a line fit, and the marginal cost per step. */
function linearity(points: [number, number][]): Linearity {
  const k = points.map(([m, ms]) => [m / 1000, ms] as const);
  const mx = k.reduce((a, [x]) => a + x, 0) / k.length;
  const my = k.reduce((a, [, y]) => a + y, 0) / k.length;
  const sxy = k.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = k.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  const slope = sxx > 0 ? sxy / sxx : 0;
  const fixed = my - slope * mx;
  const ssTot = k.reduce((a, [, y]) => a + (y - my) ** 2, 0);
  const ssRes = k.reduce((a, [x, y]) => a + (y - fixed - slope * x) ** 2, 0);
  const marginal = k.slice(1).map(([x, y], i) => round((y - (k[i] as readonly [number, number])[1]) / (x - (k[i] as readonly [number, number])[0]), 2));
  const last = marginal[marginal.length - 1];
  const before = marginal[marginal.length - 2];
  const ratio = last !== undefined && before !== undefined && before > 0 ? round(last / before, 2) : null;
  return {
    fixedMs: round(fixed),
    msPer1000: round(slope, 2),
    r2: ssTot > 0 ? round(1 - ssRes / ssTot, 4) : 1,
    marginalMsPer1000: marginal,
    lastStepRatio: ratio,
    linear: ratio === null ? null : ratio <= LINEAR_RATIO,
  };
}

/** The curve as text: one bar per size, length proportional to the time. */
function curvePlot(points: [number, number][]): string {
  const max = Math.max(...points.map(([, ms]) => ms), 1);
  return points
    .map(([m, ms]) => `${String(m).padStart(7)} members |${'#'.repeat(Math.max(1, Math.round((ms / max) * 50)))} ${ms} ms`)
    .join('\n');
}

type GatewayQuery = { id: number; msgId: string };
type GatewayAnswer = { id: number; count: number; last: number; calls: number };

if (process.argv[2] === '--gateways') {
  void gatewayProcess();
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

/** The child: GATEWAYS gateway servers; answers "how many devices got msgId, and when did the last call land". */
async function gatewayProcess(): Promise<void> {
  const gws = await Promise.all(Array.from({ length: GATEWAYS }, () => TestGateway.start()));
  process.send?.({ addresses: gws.map((g) => g.address) });
  process.on('message', (q: GatewayQuery) => {
    let count = 0;
    let last = 0;
    for (const g of gws) {
      for (const p of g.pushesOf(q.msgId)) {
        count += 1;
        last = Math.max(last, p.at);
      }
    }
    const answer: GatewayAnswer = { id: q.id, count, last, calls: gws.reduce((n, g) => n + g.calls, 0) };
    process.send?.(answer);
  });
  process.on('disconnect', () => process.exit(0));
}

async function main(): Promise<void> {
  const run = `bf${randomBytes(4).toString('hex')}`;
  const env: Record<string, string | undefined> = {
    ...process.env,
    LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn',
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    REDIS_KEY_PREFIX: `${run}:`,
    REGISTRY_PREFIX: `/im-bench/${run}/`,
    KAFKA_TOPIC_GROUP_MSG: `bench-gmsg-${run}`,
    KAFKA_TOPIC_MEMBERSHIP_CHANGE: `bench-mchg-${run}`,
    KAFKA_TOPIC_OFFLINE_PUSH: `bench-push-${run}`,
    KAFKA_TOPIC_DEAD_LETTER: `bench-dlq-${run}`,
    FANOUT_CONSUMER_GROUP: `bench-fanout-${run}`,
    MEMBERSHIP_CONSUMER_GROUP_PREFIX: `bench-mfeed-${run}`,
    FANOUT_FETCH_MAX_WAIT: process.env['FANOUT_FETCH_MAX_WAIT'] ?? '100ms',
  };
  const config = loadConfig(env);
  const logger = createLogger(config.log.level, { service: 'bench-fanout' });
  const t = config.kafka.topics;

  const kafka = createKafka(config.kafka, logger, `bench-${run}`);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: t.groupMsg, numPartitions: 8, replicationFactor: 1 },
      { topic: t.membershipChange, numPartitions: 1, replicationFactor: 1 },
      { topic: t.offlinePush, numPartitions: 4, replicationFactor: 1 },
      { topic: t.deadLetter, numPartitions: 1, replicationFactor: 1 },
    ],
    waitForLeaders: true,
  });

  const child = fork(__filename, ['--gateways'], { env: { ...process.env, BENCH_GATEWAYS: String(GATEWAYS) } });
  const addresses = await new Promise<string[]>((resolve) =>
    child.once('message', (m: { addresses: string[] }) => resolve(m.addresses)),
  );
  const ask = gatewayAsker(child);

  const mysql = createMysqlPool({ ...config.db, maxOpenConns: 4 });
  const etcd = createEtcd(config.etcd);
  const keys = new RegistryKeys(config.registry.prefix);
  const lease = etcd.lease(3600, { autoKeepAlive: false });
  const leaseId = await lease.grant();
  const groups: { size: number; groupId: string; members: string[]; devices: number }[] = [];

  const seedStart = Date.now();
  for (const size of SIZES) {
    const groupId = `${run}-g${size}`;
    const members = Array.from({ length: size }, (_, i) => `${run}-g${size}-u${String(i).padStart(6, '0')}`);
    const now = Date.now();
    await mysql.query(
      'INSERT INTO `groups` (group_id, name, creator_id, member_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
      [groupId, 'bench', members[0], size, now, now],
    );
    for (let i = 0; i < size; i += 2000) {
      await mysql.query('INSERT INTO group_members (group_id, user_id, role, joined_at) VALUES ?', [
        members.slice(i, i + 2000).map((u) => [groupId, u, 'member', now]),
      ]);
    }
    // ONLINE exactly, spread evenly: member i is online when (i+1)·ONLINE crosses an integer.
    const chosen = members.filter((_, i) => Math.floor((i + 1) * ONLINE) > Math.floor(i * ONLINE));
    for (let i = 0; i < chosen.length; i += 128) {
      await etcd.kv.txn({
        success: chosen.slice(i, i + 128).map((u, j) => ({
          request_put: {
            key: Buffer.from(keys.deviceKey(u, 'phone')),
            value: encodeRecord({ gatewayAddress: addresses[(i + j) % addresses.length] as string, registeredAt: now }),
            lease: leaseId,
          },
        })),
      });
    }
    groups.push({ size, groupId, members, devices: chosen.length });
  }
  const seedMs = Date.now() - seedStart;

  const host = new Host({ config, logger, functions: [routeGroup, fanoutGroup] });
  await host.start();
  const client = new IMServiceClient(`127.0.0.1:${host.grpcPort}`, credentials.createInsecure());
  const send = (groupId: string, senderId: string, msgId: string) =>
    new Promise<RouteGroupMessageResponse>((resolve, reject) =>
      client.routeGroupMessage(
        { msgId, senderId, groupId, content: 'benchmark message', timestamp: Date.now(), metadata: {} },
        new Metadata(),
        { deadline: new Date(Date.now() + 30_000) },
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );

  // Until the fanout consumer has joined, a message would wait for the group to form.
  const worker = () => (host.stats()['workers'] as Record<string, { ready: boolean }>)['fanout-group'];
  for (const end = Date.now() + 60_000; !worker()?.ready && Date.now() < end; ) await sleep(100);

  const loadBefore = loadavg();
  const cpuStart = process.cpuUsage();
  const lastBatch = () =>
    ((host.stats()['fanoutGroup'] as { lastBatch?: { at?: number; members?: number; ms?: number } } | undefined)?.lastBatch ?? {});
  type Run = { ms: number; cpuMs: number; batchMs: number; calls: number; routeMs: number };
  const measure = async (g: (typeof groups)[number], msgId: string): Promise<Run> => {
    const callsBefore = (await ask('')).calls;
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    await send(g.groupId, g.members[1] as string, msgId);
    const routeMs = Date.now() - t0;
    let a: GatewayAnswer;
    const deadline = Date.now() + 120_000;
    do {
      await sleep(g.size >= 10_000 ? 10 : 2);
      a = await ask(msgId);
    } while (a.count < g.devices && Date.now() < deadline);
    if (a.count < g.devices) throw new Error(`message ${msgId}: ${a.count}/${g.devices} devices after 120 s`);
    // The batch ends once its OFFLINE_PUSH tasks are published: CPU is counted up to then.
    let batch = lastBatch();
    while (!(Number(batch.at) >= t0 && batch.members === g.size) && Date.now() < deadline) {
      await sleep(5);
      batch = lastBatch();
    }
    const used = process.cpuUsage(cpu0);
    const calls = (await ask('')).calls - callsBefore;
    await sleep(200);
    return { ms: a.last - t0, cpuMs: (used.user + used.system) / 1000, batchMs: Number(batch.ms), calls, routeMs };
  };
  // Round 0 is every size's cold message; the warm rounds then cycle through the sizes, so
  // a load swing on the shared machine touches every size instead of skewing one.
  const perSize = groups.map(() => ({ cold: 0, routeMs: 0, runs: [] as Run[] }));
  let n = 0;
  for (let r = 0; r <= RUNS; r++) {
    for (const [i, g] of groups.entries()) {
      const m = await measure(g, `${run}-m${++n}`);
      const acc = perSize[i] as (typeof perSize)[number];
      acc.routeMs += m.routeMs;
      if (r === 0) acc.cold = m.ms;
      else acc.runs.push(m);
    }
  }
  const results: SizeResult[] = groups.map((g, i) => {
    const { cold, routeMs, runs } = perSize[i] as (typeof perSize)[number];
    const warm = median(runs.map((x) => x.ms));
    const cpuMs = median(runs.map((x) => x.cpuMs));
    return {
      members: g.size,
      devices: g.devices,
      coldMs: cold,
      warmMedianMs: warm,
      warmBestMs: Math.min(...runs.map((x) => x.ms)),
      warmRunsMs: runs.map((x) => x.ms),
      routeAvgMs: round(routeMs / (RUNS + 1)),
      deliveriesPerSecond: Math.round(g.devices / (warm / 1000)),
      msPer1000Members: round((warm / g.size) * 1000, 2),
      batchMedianMs: median(runs.map((x) => x.batchMs)),
      cpuMedianMs: round(cpuMs),
      cpuMsPer1000Members: round((cpuMs / g.size) * 1000, 2),
      pushCallsPerMessage: median(runs.map((x) => x.calls)),
    };
  });
  const cpu = process.cpuUsage(cpuStart);
  const loadAfter = loadavg();
  const curve = linearity(results.map((r) => [r.members, r.warmMedianMs]));
  const cpuCurve = linearity(results.map((r) => [r.members, r.cpuMedianMs]));

  console.log(
    `\nfanout: ${GATEWAYS} gateways, ${ONLINE * 100}% online (one device each), FANOUT_BATCH_SIZE=${config.task.fanoutBatchSize}, ` +
      `load ${loadBefore.map((x) => x.toFixed(2)).join(' ')} -> ${loadAfter.map((x) => x.toFixed(2)).join(' ')}`,
  );
  console.log(
    'members  devices  cold ms  warm median ms  best ms  deliveries/s  ms/1k members  marginal ms/1k  batch ms  cpu ms  cpu ms/1k  calls',
  );
  results.forEach((r, i) => {
    const marginal = i === 0 ? '' : String(curve.marginalMsPer1000[i - 1]);
    console.log(
      [
        [r.members, 7],
        [r.devices, 7],
        [r.coldMs, 7],
        [r.warmMedianMs, 14],
        [r.warmBestMs, 7],
        [r.deliveriesPerSecond, 12],
        [r.msPer1000Members, 13],
        [marginal, 14],
        [r.batchMedianMs, 8],
        [r.cpuMedianMs, 6],
        [r.cpuMsPer1000Members, 9],
        [r.pushCallsPerMessage, 5],
      ]
        .map(([v, w]) => String(v).padStart(w as number))
        .join('  '),
    );
  });
  console.log(curvePlot(results.map((r) => [r.members, r.warmMedianMs])));
  console.log(
    `fit: ${curve.fixedMs} ms + ${curve.msPer1000} ms per 1,000 members (r² ${curve.r2}); ` +
      `marginal cost of the last step / the step before: ${curve.lastStepRatio} -> ${curve.linear ? 'linear' : 'NOT linear'} ` +
      `(CPU: ${cpuCurve.fixedMs} ms + ${cpuCurve.msPer1000} ms per 1,000, ratio ${cpuCurve.lastStepRatio}, ${cpuCurve.linear ? 'linear' : 'NOT linear'})`,
  );
  const tenK = results.find((r) => r.members === 10_000);
  if (tenK) {
    console.log(`10,000 members: ${tenK.warmMedianMs} ms warm median (target < 500 ms: ${tenK.warmMedianMs < 500 ? 'met' : 'missed'})`);
  }

  const out = {
    benchmark: 'fanout',
    at: new Date().toISOString(),
    conditions: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '',
      memoryGb: round(totalmem() / 1024 ** 3),
      loadavgBefore: loadBefore.map((x) => round(x, 2)),
      loadavgAfter: loadAfter.map((x) => round(x, 2)),
      benchProcessCpuSeconds: round((cpu.user + cpu.system) / 1e6, 2),
      setup:
        'route-group + fanout-group in one host process; 8 gateway gRPC servers in a child process; real MariaDB, Redis, etcd, Kafka (local stack, shared machine)',
      online: ONLINE,
      devicesPerOnlineMember: 1,
      gateways: GATEWAYS,
      runsPerSize: RUNS,
      fanoutBatchSize: config.task.fanoutBatchSize,
      largeGroupThreshold: config.task.largeGroupThreshold,
      pageConcurrency: config.task.fanoutPageConcurrency,
      pushNotificationEnabled: config.task.pushNotificationEnabled,
      seedSeconds: round(seedMs / 1000),
      measured: 'RouteGroupMessage sent -> last PushBatch received by a gateway (same clock)',
      batchMs: "fanout-group's handler time for the message, until its OFFLINE_PUSH tasks were published",
      cpuMs: 'CPU of the route-group + fanout-group process from the send until the batch ended',
      linearityRule: `linear when the marginal ms per 1,000 members of the last step is at most ${LINEAR_RATIO}x that of the step before`,
    },
    results,
    curve,
    cpuCurve,
  };
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/fanout.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log('wrote bench/results/fanout.json');

  client.close();
  await host.stop();
  child.disconnect();
  child.kill();
  await admin.deleteTopics({ topics: Object.values(t).filter((x) => x.includes(run)) }).catch(() => undefined);
  await admin.deleteGroups([config.task.fanoutConsumerGroup]).catch(() => undefined);
  await admin.disconnect();
  await lease.revoke().catch(() => undefined);
  await etcd.delete().prefix(config.registry.prefix).catch(() => undefined);
  for (const g of groups) {
    for (const table of ['group_members', '`groups`', 'group_messages', 'group_read_positions']) {
      await mysql.query(`DELETE FROM ${table} WHERE group_id = ?`, [g.groupId]);
    }
    await mysql.query('DELETE FROM sequence_reservations WHERE conversation_id = ?', [`g:${g.groupId}`]);
  }
  await mysql.end();
  const redis = createRedis(config.redis, { keyPrefix: '' });
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${run}:*`, 'COUNT', 1000);
    cursor = next;
    if (batch.length > 0) await redis.del(...batch);
  } while (cursor !== '0');
  redis.disconnect();
  etcd.close();
  process.exit(0);
}

function gatewayAsker(child: ChildProcess): (msgId: string) => Promise<GatewayAnswer> {
  let id = 0;
  const waiting = new Map<number, (a: GatewayAnswer) => void>();
  child.on('message', (m: GatewayAnswer) => {
    const w = waiting.get(m.id);
    if (w) {
      waiting.delete(m.id);
      w(m);
    }
  });
  return (msgId) =>
    new Promise((resolve) => {
      id += 1;
      waiting.set(id, resolve);
      child.send({ id, msgId } satisfies GatewayQuery);
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
