// Shared helpers for scripts/stack.mjs: state paths, address parsing, port
// probes, detached processes with pid files, package installs, the up/down lock.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const STATE = path.resolve(process.env.IM_STACK_DIR || path.join(os.homedir(), '.cache', 'im-functions', 'stack'));
export const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
export const IS_ROOT = process.getuid?.() === 0;
export const TIMEOUT_MS = 1000 * (Number(process.env.STACK_TIMEOUT_SECONDS) || 120);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const note = (msg) => process.stderr.write(`stack: ${msg}\n`);

/** Error that stops waiting at once (wrong password, port taken by something else...). */
export function fatal(message) { const e = new Error(message); e.stackFatal = true; return e; }

/** Per-service files: <STATE>/<svc>/{data, <svc>.log, <svc>.pid}. */
export function paths(svc) {
  const dir = path.join(STATE, svc);
  return { dir, data: path.join(dir, 'data'), log: path.join(dir, `${svc}.log`), pid: path.join(dir, `${svc}.pid`) };
}

export function isLoopback(host) {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** "http://host:port", "host:port", "[::1]:port", "host" → {host, port}. */
export function parseAddr(s, defaultPort) {
  const u = s.trim().replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').replace(/^.*@/, '');
  const m = u.match(/^\[([^\]]+)\](?::(\d+))?$/) || u.match(/^([^:]+)(?::(\d+))?$/);
  if (!m) throw new Error(`cannot parse address "${s}"`);
  return { host: m[1], port: Number(m[2] || defaultPort) };
}

export const fmtAddr = (host, port) => `${host.includes(':') ? `[${host}]` : host}:${port}`;

/** A service's target: where clients reach it and, when local, where we bind it. */
export function target(name, host, port) {
  const local = isLoopback(host);
  const h = host.replace(/^\[|\]$/g, '');
  const bind = /^127\./.test(h) ? h : h === '::1' ? '::1' : '127.0.0.1';
  const dial = local ? bind : h; // where we connect to check it
  return { name, host: h, port, local, bind, dial, addr: fmtAddr(dial, port) };
}

/** Does anything accept TCP connections on host:port? */
export function portOpen(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** Retry fn until it resolves, the deadline passes, a fatal error, or our process dies. */
export async function waitFor(fn, { deadline, pid, what }) {
  let last;
  for (;;) {
    try { return await fn(); } catch (e) { last = e; if (e.stackFatal) throw e; }
    if (pid && !alive(pid)) throw new Error(`process ${pid} exited (${what}: ${last?.message})`);
    if (Date.now() >= deadline) throw new Error(`no answer within ${Math.round(TIMEOUT_MS / 1000)}s (${last?.message})`);
    await sleep(300);
  }
}

/** Process exists and is not a zombie (whoever reaps our detached children may be slow). */
export function alive(pid) {
  try { process.kill(pid, 0); } catch (e) { if (e.code !== 'EPERM') return false; }
  try { return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; }
}

function cmdline(pid) {
  try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '); } catch { /* not Linux? */ }
  const r = spawnSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : '';
}

/** {pid, host, port} from the service's pid file if that process is alive and still ours (marker in its command line). */
export function ownPid(svc, marker) {
  let pid, host, port;
  try { [pid, host, port] = fs.readFileSync(paths(svc).pid, 'utf8').trim().split(/\s+/); } catch { return null; }
  if (Number(pid) > 0 && alive(Number(pid)) && cmdline(Number(pid)).includes(marker)) return { pid: Number(pid), host, port: Number(port) };
  fs.rmSync(paths(svc).pid, { force: true });
  return null;
}

/** Start a process that outlives this script: own session, stdio to the log file, pid file. */
export function spawnDetached(svc, t, cmd, args, opts = {}) {
  const p = paths(svc);
  fs.mkdirSync(p.dir, { recursive: true });
  try { if (fs.statSync(p.log).size > 20e6) fs.renameSync(p.log, `${p.log}.old`); } catch { /* no log yet */ }
  const fd = fs.openSync(p.log, 'a');
  fs.writeSync(fd, `\n=== ${new Date().toISOString()} stack.mjs: ${cmd} ${args.join(' ')}\n`);
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], cwd: opts.cwd || p.dir, env: { ...process.env, ...opts.env } });
  fs.closeSync(fd);
  child.on('error', () => {}); // surfaces as a dead pid in waitFor
  child.unref();
  if (!child.pid) throw new Error(`could not start ${cmd}`);
  fs.writeFileSync(p.pid, `${child.pid} ${t.dial} ${t.port}\n`); // the address lets `down` wait for the port
  return child.pid;
}

/** SIGTERM, wait up to 20 s, SIGKILL; then wait until the port is closed. */
export async function stopPid(svc, { pid, host, port }) {
  try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  const until = Date.now() + 20_000;
  while (alive(pid) && Date.now() < until) await sleep(100);
  if (alive(pid)) { note(`${svc}: pid ${pid} ignored SIGTERM for 20 s, sending SIGKILL`); try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  while (alive(pid)) await sleep(100);
  const portUntil = Date.now() + 10_000;
  while (port && await portOpen(host, port, 300) && Date.now() < portUntil) await sleep(100);
  fs.rmSync(paths(svc).pid, { force: true });
}

/** Run a command to completion; resolves {code, out} (stdout+stderr). */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: [opts.input == null ? 'ignore' : 'pipe', 'pipe', 'pipe'], ...opts });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', (e) => resolve({ code: -1, out: String(e.message) }));
    child.on('close', (code) => resolve({ code, out }));
    if (opts.input != null) child.stdin.end(opts.input);
  });
}

/** Absolute path of an executable on PATH or in the sbin dirs (not on a non-root PATH), or null. */
export function which(bin) {
  const dirs = [...(process.env.PATH || '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    const f = path.join(d || '.', bin);
    try { fs.accessSync(f, fs.constants.X_OK); if (fs.statSync(f).isFile()) return f; } catch { /* next */ }
  }
  return null;
}

/** Debian packages providing the missing executables of {binary: package}. */
export const missingPackages = (bins) => [...new Set(Object.entries(bins).filter(([b]) => !which(b)).map(([, p]) => p))];

/** apt-get install the packages (sudo when not root); apt-get update only if a package is unknown. */
export async function aptInstall(pkgs) {
  if (!pkgs.length) return;
  let pre = [];
  if (!IS_ROOT) {
    if (!which('sudo')) throw new Error(`missing packages ${pkgs.join(' ')}: run as root: apt-get install -y --no-install-recommends ${pkgs.join(' ')}`);
    pre = ['sudo', 'env', 'DEBIAN_FRONTEND=noninteractive'];
  }
  const apt = (args) => {
    note(`${pre.length ? 'sudo ' : ''}apt-get ${args.join(' ')}`);
    const [cmd, ...rest] = [...pre, 'apt-get', ...args];
    return run(cmd, rest, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: ['inherit', 'pipe', 'pipe'] });
  };
  const install = ['install', '-y', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=300', ...pkgs];
  let r = await apt(install);
  if (r.code !== 0 && /Unable to locate|has no installation candidate/.test(r.out)) {
    await apt(['update', '-o', 'DPkg::Lock::Timeout=300']);
    r = await apt(install);
  }
  if (r.code !== 0) throw new Error(`apt-get install ${pkgs.join(' ')} failed:\n${r.out.trim().split('\n').slice(-15).join('\n')}`);
}

/** Exclusive lock on STATE so concurrent `up`/`down` from several clones do not race. */
export async function lock() {
  const dir = path.join(STATE, '.lock');
  fs.mkdirSync(STATE, { recursive: true });
  const deadline = Date.now() + TIMEOUT_MS + 60_000;
  for (let said = false; ;) {
    try {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'pid'), String(process.pid));
      const release = () => fs.rmSync(dir, { recursive: true, force: true });
      process.once('exit', release);
      return release;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    let holder = 0;
    try { holder = Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8')); } catch { /* being written */ }
    if (holder && !alive(holder)) { fs.rmSync(dir, { recursive: true, force: true }); continue; }
    if (!holder) { try { if (Date.now() - fs.statSync(dir).mtimeMs > 5000) fs.rmSync(dir, { recursive: true, force: true }); } catch { /* gone */ } }
    if (!said && holder) { note(`waiting for another stack.mjs (pid ${holder}) to finish`); said = true; }
    if (Date.now() > deadline) throw new Error(`lock ${dir} held by pid ${holder} for too long`);
    await sleep(200);
  }
}
