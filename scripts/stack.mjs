#!/usr/bin/env node
// scripts/stack.mjs — the project's one local-infrastructure script.
//
// Owns MariaDB 10.11, Redis 7, etcd 3.4 and Kafka 3.9.1 (KRaft) for local runs and tests:
// installs what is missing (Debian packages; Kafka jars from Maven Central), starts what is
// not running as detached processes with state under $IM_STACK_DIR (default
// ~/.cache/im-functions/stack, shared by every clone on the machine), reuses whatever
// already answers, and only waits for / sets up servers that env vars point elsewhere
// (DB_HOST, REDIS_ADDR, ETCD_ENDPOINTS, KAFKA_BROKERS). It also creates the app database
// and user and the Kafka topics of shared/bus/topics.json. See docs/local-stack.md.
// On request only, a MySQL 8 server for the compatibility tests (docs/mysql8.md).
//
//   node scripts/stack.mjs up [svc...] | down [svc...] | status | stop <svc> | start <svc>
//   svc: mariadb, redis, etcd, kafka (the default set), mysql8 (only when named)
import { STATE, TIMEOUT_MS, aptInstall, fmtAddr, lock, missingPackages, note, ownPid, portOpen, spawnDetached, stopPid, waitFor, withTimeout } from './stack/util.mjs';
import mariadb from './stack/mariadb.mjs';
import redis from './stack/redis.mjs';
import etcd from './stack/etcd.mjs';
import kafka from './stack/kafka.mjs';
import mysql8 from './stack/mysql8.mjs';

const SERVICES = { mariadb, redis, etcd, kafka, mysql8 };
// What `up` and `npm start` need. mysql8 starts only when named; `down` and `status` include
// it only while this script's process runs (pid file), so they stay quiet where it is unused.
const DEFAULT = ['mariadb', 'redis', 'etcd', 'kafka'];
const OPTIONAL = ['mysql8'];
const withOwnOptional = () => [...DEFAULT, ...OPTIONAL.filter((n) => ownPid(n, SERVICES[n].marker))];
const secs = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const row = (name, addr, what) => `${name.padEnd(8)} ${addr.padEnd(16)} ${what}`;

/** How each service stands: external, ours (pid file + live process), foreign, or down. */
async function survey(names) {
  return Promise.all(names.map(async (name) => {
    const svc = SERVICES[name];
    const t = svc.target();
    const own = ownPid(name, svc.marker);
    const open = await portOpen(t.dial, t.port, 700);
    const pid = t.local && own && (!own.port || own.port === t.port) ? own.pid : undefined; // ours at this address
    return { name, svc, t, own, pid, open, kind: !t.local ? 'external' : pid ? 'ours' : open ? 'foreign' : 'down' };
  }));
}

/** Bring services up concurrently; one summary line each; exit 1 if any did not answer. */
async function up(names) {
  const release = await lock();
  const plans = await survey(names);
  const toStart = plans.filter((p) => p.kind === 'down');
  const needs = new Map(toStart.map((p) => [p.name, missingPackages(p.svc.bins())]));
  const apt = aptInstall([...new Set([...needs.values()].flat())]);
  apt.catch(() => {}); // awaited below by the services that need it

  const results = await Promise.allSettled(plans.map(async (p) => {
    const { name, svc, t } = p;
    const t0 = Date.now();
    let mode = p.kind === 'external' ? 'external' : 'reused';
    let pid = p.pid;
    if (p.kind === 'down') {
      if (needs.get(name).length) await apt;
      await svc.prepare(t);
      if (await portOpen(t.dial, t.port, 500)) note(`${name}: ${t.addr} started answering meanwhile (package install?), reusing it`);
      else {
        const [cmd, args] = svc.command(t);
        pid = spawnDetached(name, t, cmd, args);
        mode = 'started';
      }
    }
    const deadline = Date.now() + TIMEOUT_MS;
    const opts = { deadline, pid, what: name };
    await waitFor(() => withTimeout(svc.ping(t), 10_000, `${name} ping`), opts);
    await waitFor(() => withTimeout(svc.setup(t, { ours: !!pid }), 30_000, `${name} setup`), opts);
    await waitFor(() => withTimeout(svc.verify(t), 10_000, `${name} check`), opts);
    return row(name, t.addr, `${mode.padEnd(8)} (${secs(t0)})`);
  }));
  release();

  let failed = false;
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') return console.log(r.value);
    failed = true;
    const { name, svc, t, kind } = plans[i];
    const where = kind === 'external' ? 'external server, no local log'
      : kind === 'foreign' ? `port ${t.port} is held by a process this script did not start (ss -ltnp)` : `log: ${svc.log}`;
    console.error(`stack: ${name} FAILED at ${t.addr}: ${String(r.reason?.message || r.reason).split('\n').join(' | ')} — ${where}`);
  });
  return failed ? 1 : 0;
}

/** Stop the processes this script started; never external or foreign ones. */
async function down(names, { strict = false } = {}) {
  const release = await lock();
  const plans = await survey(names);
  const lines = await Promise.all(plans.map(async ({ name, t, own, kind }) => {
    if (own) { // ours, even if the env now points elsewhere
      const t0 = Date.now();
      await stopPid(name, own);
      return [row(name, own.port ? fmtAddr(own.host, own.port) : t.addr, `stopped  (pid ${own.pid}, ${secs(t0)})`), true];
    }
    if (kind === 'external') return [row(name, t.addr, 'external, left alone'), false];
    if (kind === 'foreign') return [row(name, t.addr, 'not started by this script (no pid file), left running'), false];
    return [row(name, t.addr, 'not running'), true];
  }));
  release();
  for (const [line] of lines) console.log(line);
  return strict && lines.some(([, ok]) => !ok) ? 1 : 0;
}

async function status() {
  console.log(`state: ${STATE}`);
  const plans = await survey(withOwnOptional());
  await Promise.all(plans.map(async (p) => {
    if (!p.open && !p.pid) return;
    try { await withTimeout(p.svc.ping(p.t), 5000, 'ping'); p.answers = 'answers'; } catch (e) { p.answers = `port open, not answering: ${e.message}`; }
  }));
  for (const { name, svc, t, pid, kind, answers } of plans) {
    const who = { external: 'external', ours: `managed, pid ${pid}`, foreign: 'foreign process (not ours)', down: 'managed' }[kind];
    console.log(row(name, t.addr, `${(answers || 'down').padEnd(8)} ${who}${t.local ? `  log: ${svc.log}` : ''}`));
  }
  return 0;
}

const [cmd, ...svcs] = process.argv.slice(2);
const [svc] = svcs;
const usage = `usage: node scripts/stack.mjs up [svc...] | down [svc...] | status | stop <svc> | start <svc>   (svc: ${Object.keys(SERVICES).join(', ')})`;
let code;
try {
  if (((cmd === 'stop' || cmd === 'start') && (!SERVICES[svc] || svcs.length > 1)) || svcs.some((n) => !SERVICES[n])) { console.error(usage); code = 2; }
  else if (cmd === 'up') code = await up(svcs.length ? svcs : DEFAULT);
  else if (cmd === 'start') code = await up([svc]);
  else if (cmd === 'down') code = await down(svcs.length ? svcs : withOwnOptional());
  else if (cmd === 'stop') code = await down([svc], { strict: true });
  else if (cmd === 'status') code = await status();
  else { console.error(usage); code = 2; }
} catch (e) {
  console.error(`stack: ${e.message}`);
  code = 1;
}
process.exit(code); // do not wait for lingering client sockets
