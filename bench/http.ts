/**
 * Benchmark of the client HTTP API (`npm run bench -- http`): wrk (or autocannon) against
 * GET /api/v1/messages/unread/count and a 50-message page of GET /api/v1/offline,
 * with realistic data — 10,000 users, 1,000,000 inbox rows (100 a user, 20 unread),
 * 500 groups of 20 members with 40 log entries each — in a throwaway database
 * (BENCH_DB, default im_bench_http) that later runs reuse when its spec matches.
 *
 * The mark-read host runs in a child process (this same file with `--serve`), so the
 * load generator does not share its event loop. Every request carries a token of a
 * random user. Prints requests/s, latency percentiles and the CPU (in cores) the server,
 * the load generator and MariaDB used, and writes bench/results/http.json. Target:
 * unread count >= 3,000 req/s with p99 < 25 ms.
 *
 * The load generator is wrk (C; scripts/bench-tools.sh installs it): on two cores it
 * shares with the server, autocannon (Node) took about as much CPU as the server itself.
 * autocannon remains the fallback where wrk cannot be installed (BENCH_TOOL=autocannon
 * forces it).
 *
 * Then the unread count again at other connection counts (BENCH_SWEEP, default 8,32,64;
 * BENCH_SWEEP_SECONDS each, default 8): how throughput and p99 follow the concurrency.
 *
 * Knobs: BENCH_SECONDS (15), BENCH_CONNECTIONS (16), BENCH_TOOL (wrk | autocannon),
 * BENCH_THREADS (wrk threads, 1), BENCH_SCENARIOS (unread,inbox), BENCH_SWEEP ('' for
 * none), BENCH_SWEEP_SECONDS, BENCH_DB, BENCH_REBUILD=1, BENCH_PROFILE=<dir> (CPU
 * profile of the server).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { RowDataPacket } from 'mysql2/promise';
import { JwtAuth } from '../shared/auth/jwt';
import { loadConfig } from '../shared/config';
import { Content } from '../shared/gen/im/events/v1/events';
import { createLogger } from '../shared/observability/logger';
import { Host } from '../shared/runtime/host';
import { privateConversationId } from '../shared/sequence/conversation-id';
import { createMysqlPool, type Pool } from '../shared/storage/mysql';
import { markRead } from '../functions/mark-read/function';
import { ensureWrk, runWrk, wrkVersion, type LoadResult } from './lib/wrk';
import { cpuSecondsOf, ownCpuSeconds, pidByComm } from './lib/proc-stat';

const DB = process.env['BENCH_DB'] ?? 'im_bench_http';
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 15);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const THREADS = Number(process.env['BENCH_THREADS'] ?? 1);
const TOOL = process.env['BENCH_TOOL'] ?? 'wrk';
const SCENARIOS = (process.env['BENCH_SCENARIOS'] ?? 'unread,inbox').split(',');
const SWEEP = (process.env['BENCH_SWEEP'] ?? '8,32,64').split(',').filter((c) => c.trim() !== '').map(Number);
const SWEEP_SECONDS = Number(process.env['BENCH_SWEEP_SECONDS'] ?? 8);
const SPEC = { users: 10_000, perUser: 100, unreadPerUser: 20, groups: 500, groupSize: 20, logPerGroup: 40, version: 1 };
const DAY = 86_400_000;
/** bench/run.mjs runs benchmarks from the repository root. */
const root = process.cwd();

const userId = (i: number): string => `bu-${String(i).padStart(5, '0')}`;
const groupId = (i: number): string => `bg-${String(i).padStart(4, '0')}`;

/** Deterministic PRNG (mulberry32) so the dataset is the same on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const content = (text: string): Buffer => Buffer.from(Content.encode({ body: { $case: 'text', value: text } }).finish());

async function datasetReady(pool: Pool): Promise<boolean> {
  try {
    const [rows] = await pool.query<RowDataPacket[]>('SELECT spec FROM bench_dataset WHERE name = ?', ['http']);
    return rows[0]?.['spec'] === JSON.stringify({ ...SPEC, schema: latestMigration() });
  } catch {
    return false;
  }
}

function latestMigration(): number {
  return Math.max(...readdirSync(join(root, 'migrations')).map((f) => Number(f.split('.')[0])).filter(Number.isFinite));
}

async function buildDataset(admin: Pool, env: NodeJS.ProcessEnv): Promise<void> {
  console.log(`building dataset in ${DB} (${SPEC.users} users, ${SPEC.users * SPEC.perUser} inbox rows)…`);
  await admin.query(`DROP DATABASE IF EXISTS \`${DB}\``);
  spawnSync(process.execPath, [join(root, 'build.mjs'), 'migrate'], { cwd: root, stdio: 'ignore' });
  const m = spawnSync(process.execPath, [join(root, 'dist/migrate/index.js')], { cwd: root, env: { ...env, DB_NAME: DB }, stdio: 'inherit' });
  if (m.status !== 0) throw new Error('migration of the bench database failed');
  const pool = createMysqlPool(loadConfig(env).db, { database: DB });
  const started = Date.now();
  const now = Date.now();
  try {
    const rnd = prng(7);
    await insertChunks(pool, 'INSERT INTO users (user_id, display_name, created_at, updated_at) VALUES ?',
      Array.from({ length: SPEC.users }, (_, i) => [userId(i), `Bench user ${i}`, now - 30 * DAY, now - 30 * DAY]));
    // Round r gives every user their r-th message, so a user's rows spread over the table as in life.
    const seqs = new Map<string, number>();
    const friendsOf = (u: number) => Array.from({ length: 10 }, (_, k) => (u * 7919 + k * 104_729 + 1) % SPEC.users);
    for (let r = 0; r < SPEC.perUser; r++) {
      const rows: unknown[][] = [];
      const created = now - 6 * DAY + Math.floor((r / SPEC.perUser) * 6 * DAY);
      for (let u = 0; u < SPEC.users; u++) {
        const friends = friendsOf(u);
        const s = friends[Math.floor(rnd() * friends.length)] as number;
        const [user, sender] = [userId(u), userId(s === u ? (s + 1) % SPEC.users : s)];
        const conv = privateConversationId(user, sender);
        const seq = (seqs.get(conv) ?? 0) + 1;
        seqs.set(conv, seq);
        const msgId = `bm-${r}-${u}`;
        const read = r < SPEC.perUser - SPEC.unreadPerUser ? created + 60_000 : null;
        const text = `message ${r} from ${sender}: ${'lorem ipsum '.repeat(1 + Math.floor(rnd() * 8))}`;
        rows.push([user, msgId, sender, 'private', conv, seq, content(text), null, created - 20, created + u, created + u + 7 * DAY, read]);
      }
      await insertChunks(
        pool,
        `INSERT INTO offline_messages (user_id, msg_id, sender_id, conversation_type, conversation_id, sequence_number,
           content, metadata, client_timestamp, created_at, expires_at, read_at) VALUES ?`,
        rows,
      );
      if (r % 10 === 9) console.log(`  ${(r + 1) * SPEC.users} rows (${Math.round((Date.now() - started) / 1000)} s)`);
    }
    const members: unknown[][] = [];
    const log: unknown[][] = [];
    const positions: unknown[][] = [];
    for (let g = 0; g < SPEC.groups; g++) {
      const ids = Array.from({ length: SPEC.groupSize }, (_, k) => userId(g * SPEC.groupSize + k));
      await pool.query('INSERT INTO `groups` (group_id, name, creator_id, member_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
        [groupId(g), `Bench group ${g}`, ids[0], ids.length, now - 30 * DAY, now - 30 * DAY]);
      for (const u of ids) {
        members.push([groupId(g), u, 'member', now - 30 * DAY]);
        positions.push([u, groupId(g), 30 + Math.floor(rnd() * 10), now - DAY]);
      }
      for (let s = 1; s <= SPEC.logPerGroup; s++) {
        const created = now - 6 * DAY + s * 3_600_000;
        log.push([groupId(g), s, `bgm-${g}-${s}`, ids[s % ids.length], content(`group ${g} message ${s}`), null, created, created, created + 7 * DAY]);
      }
    }
    await insertChunks(pool, 'INSERT INTO group_members (group_id, user_id, role, joined_at) VALUES ?', members);
    await insertChunks(pool, 'INSERT INTO group_read_positions (user_id, group_id, read_seq, updated_at) VALUES ?', positions);
    await insertChunks(pool, `INSERT INTO group_messages (group_id, sequence_number, msg_id, sender_id, content, metadata,
      client_timestamp, created_at, expires_at) VALUES ?`, log);
    await pool.query('ANALYZE TABLE offline_messages, group_messages, group_members, group_read_positions');
    await pool.query('CREATE TABLE bench_dataset (name VARCHAR(32) PRIMARY KEY, spec TEXT NOT NULL, built_at BIGINT NOT NULL)');
    await pool.query('INSERT INTO bench_dataset VALUES (?, ?, ?)', ['http', JSON.stringify({ ...SPEC, schema: latestMigration() }), Date.now()]);
    console.log(`dataset built in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    await pool.end();
  }
}

async function insertChunks(pool: Pool, sql: string, rows: unknown[][], size = 2500): Promise<void> {
  for (let i = 0; i < rows.length; i += size) await pool.query(sql, [rows.slice(i, i + size)]);
}

/** Child mode: serve mark-read on an ephemeral port against the bench database. */
async function serve(): Promise<void> {
  const config = loadConfig({ ...process.env, DB_NAME: DB, HTTP_PORT: '0', GRPC_PORT: '0', LOG_LEVEL: 'error' });
  const host = new Host({ config, logger: createLogger('error'), functions: [markRead] });
  await host.start();
  process.stdout.write(`PORT ${host.httpPort}\n`);
  process.on('SIGTERM', () => void host.stop().then(() => process.exit(0)));
}

function startServer(): Promise<{ child: ChildProcess; port: number }> {
  // BENCH_PROFILE=<dir>: the server writes a V8 CPU profile there when it stops.
  const profile = process.env['BENCH_PROFILE'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE']}`] : [];
  const child = spawn(process.execPath, [...profile, process.argv[1] as string, '--serve'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

interface Scenario extends LoadResult {
  name: string;
  path: string;
  /** CPU used during the scenario, in cores (CPU seconds per second of wall time). */
  cpuCores: { server: number; loadGenerator: number; mariadb: number };
  /** Unread-count statements the server ran and users per statement (its KeyedBatcher, from /stats). */
  unreadStatements?: { statements: number; usersPerStatement: number };
}

/** The server's unread-count batching counters, from its /stats. */
async function unreadBatches(port: number): Promise<{ batches: number; users: number }> {
  const res = await fetch(`http://127.0.0.1:${port}/stats`);
  const body = (await res.json()) as { markRead?: { unreadCountBatches?: { batches: number; users: number } } };
  return body.markRead?.unreadCountBatches ?? { batches: 0, users: 0 };
}

/** CPU seconds (user + system) a process has used so far; 0 when unknown. */
const cpuSeconds = (pid: number | undefined): number => cpuSecondsOf(pid) ?? 0;

/** CPU seconds of this process and its waited-for children (wrk). */
function selfAndChildrenCpu(): number {
  const own = ownCpuSeconds();
  return own.self + own.children;
}

type LoadTool = { kind: 'wrk'; wrk: string } | { kind: 'autocannon' };

/**
 * The fallback. Every autocannon connection walks the token list from its start, so
 * concurrent requests often name the same user and share one read in the unread-count
 * batcher (2 distinct users a statement against wrk's 8 at 16 connections): it flatters
 * the unread count. The wrk script hands tokens out in turn across connections.
 */
async function autocannonLoad(port: number, path: string, tokens: string[], seconds: number, connections: number): Promise<LoadResult> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: seconds,
    requests: tokens.map((t) => ({ method: 'GET' as const, path, headers: { authorization: `Bearer ${t}` } })),
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    requests: result.requests.total,
    errors: result.errors,
    non2xx: result.non2xx,
    timeouts: result.timeouts,
  };
}

async function load(
  tool: LoadTool,
  pids: { server: number | undefined; mariadb: number | undefined },
  port: number,
  name: string,
  path: string,
  tokens: string[],
  seconds: number,
  connections = CONNECTIONS,
): Promise<Scenario> {
  const b0 = await unreadBatches(port);
  const c0 = { server: cpuSeconds(pids.server), gen: selfAndChildrenCpu(), db: cpuSeconds(pids.mariadb) };
  const t0 = process.hrtime.bigint();
  const result =
    tool.kind === 'wrk'
      ? await runWrk({ wrk: tool.wrk, root, url: `http://127.0.0.1:${port}`, path, tokens, seconds, connections, threads: THREADS })
      : await autocannonLoad(port, path, tokens, seconds, connections);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cores = (d: number): number => Math.round((d / wall) * 100) / 100;
  const cpuCores = {
    server: cores(cpuSeconds(pids.server) - c0.server),
    loadGenerator: cores(selfAndChildrenCpu() - c0.gen),
    mariadb: cores(cpuSeconds(pids.mariadb) - c0.db),
  };
  const b1 = await unreadBatches(port);
  const statements = b1.batches - b0.batches;
  return {
    name,
    path,
    ...result,
    cpuCores,
    ...(statements > 0 ? { unreadStatements: { statements, usersPerStatement: Math.round(((b1.users - b0.users) / statements) * 10) / 10 } } : {}),
  };
}

async function main(): Promise<void> {
  const env = process.env;
  const config = loadConfig(env);
  const admin = createMysqlPool(config.db);
  const benchPool = createMysqlPool(config.db, { database: DB });
  const reused = env['BENCH_REBUILD'] !== '1' && (await datasetReady(benchPool));
  await benchPool.end();
  if (!reused) await buildDataset(admin, env);
  else console.log(`reusing dataset in ${DB}`);
  await admin.end();

  const auth = new JwtAuth(config.auth);
  const rnd = prng(11);
  const tokens = await Promise.all(Array.from({ length: 2000 }, () => auth.sign(userId(Math.floor(rnd() * SPEC.users)))));
  const wrk = TOOL === 'wrk' ? ensureWrk(root) : undefined;
  if (TOOL === 'wrk' && !wrk) console.log('wrk unavailable: falling back to autocannon');
  const tool: LoadTool = wrk ? { kind: 'wrk', wrk } : { kind: 'autocannon' };
  const loadGenerator = tool.kind === 'wrk' ? `wrk ${wrkVersion(tool.wrk)} (${THREADS} thread${THREADS === 1 ? '' : 's'})` : 'autocannon 9 (in the bench process)';
  const all = [
    { key: 'unread', name: 'unread count', path: '/api/v1/messages/unread/count' },
    { key: 'inbox', name: 'inbox page (50 messages)', path: '/api/v1/offline?limit=50' },
  ].filter((s) => SCENARIOS.includes(s.key));
  const loadBefore = loadavg().map((l) => Math.round(l * 100) / 100);
  const { child, port } = await startServer();
  const pids = { server: child.pid, mariadb: pidByComm('mariadbd') ?? pidByComm('mysqld') };
  try {
    for (const s of all) await load(tool, pids, port, 'warm-up', s.path, tokens, 3);
    const scenarios: Scenario[] = [];
    for (const s of all) scenarios.push(await load(tool, pids, port, s.name, s.path, tokens, SECONDS));
    const loadMid = loadavg().map((l) => Math.round(l * 100) / 100);
    const unreadPath = all.find((s) => s.key === 'unread')?.path;
    const connectionSweep: (Scenario & { connections: number })[] = [];
    for (const c of unreadPath ? SWEEP : []) {
      connectionSweep.push({ connections: c, ...(await load(tool, pids, port, `unread count, ${c} connections`, unreadPath as string, tokens, SWEEP_SECONDS, c)) });
    }
    const loadAfter = loadavg().map((l) => Math.round(l * 100) / 100);
    const line = (s: Scenario): string =>
      `${s.name.padEnd(26)} ${String(s.requestsPerSecond).padStart(6)} req/s  p50 ${s.latencyMs.p50} ms  p99 ${s.latencyMs.p99} ms  ` +
      `max ${s.latencyMs.max} ms  (${s.requests} requests, ${s.errors} errors, ${s.non2xx} non-2xx)  ` +
      `cpu cores: server ${s.cpuCores.server}, load generator ${s.cpuCores.loadGenerator}, mariadb ${s.cpuCores.mariadb}` +
      (s.unreadStatements ? `  (${s.unreadStatements.usersPerStatement} users per unread-count statement)` : '');
    console.log(`load generator: ${loadGenerator}, ${CONNECTIONS} connections, ${SECONDS} s per scenario`);
    for (const s of scenarios) console.log(line(s));
    console.log(`load average before ${loadBefore.join(' ')}, after the scenarios ${loadMid.join(' ')}`);
    if (connectionSweep.length > 0) {
      console.log(`connection sweep, ${SWEEP_SECONDS} s each:`);
      for (const s of connectionSweep) console.log(line(s));
      console.log(`load average after the sweep ${loadAfter.join(' ')}`);
    }
    const unread = scenarios.find((s) => s.name === 'unread count');
    const targetMet =
      unread !== undefined && unread.requestsPerSecond >= 3000 && unread.latencyMs.p99 < 25 && unread.non2xx === 0 && unread.errors === 0;
    console.log(`target (unread count >= 3000 req/s, p99 < 25 ms): ${targetMet ? 'met' : 'NOT met'}`);
    const out = {
      benchmark: 'http',
      date: new Date().toISOString(),
      params: {
        loadGenerator,
        seconds: SECONDS,
        connections: CONNECTIONS,
        sweepSeconds: SWEEP_SECONDS,
        tokens: tokens.length,
        database: DB,
        datasetReused: reused,
      },
      dataset: { ...SPEC, inboxRows: SPEC.users * SPEC.perUser, groupLogRows: SPEC.groups * SPEC.logPerGroup },
      scenarios,
      connectionSweep,
      target: { unreadCountRequestsPerSecond: 3000, unreadCountP99Ms: 25 },
      targetMet,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
        node: process.version,
        loadBefore,
        loadAfterScenarios: loadMid,
        loadAfter,
        notes:
          'The load generator, the mark-read host (one Node process) and MariaDB/Redis/Kafka of the local stack share the machine; ' +
          'other engineers may load it too (see loadBefore/loadAfter).',
      },
    };
    mkdirSync(join(root, 'bench/results'), { recursive: true });
    writeFileSync(join(root, 'bench/results/http.json'), `${JSON.stringify(out, null, 2)}\n`);
    console.log('wrote bench/results/http.json');
  } finally {
    child.kill('SIGTERM');
  }
}

if (process.argv.includes('--serve')) {
  serve().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

