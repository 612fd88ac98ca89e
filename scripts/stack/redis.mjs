// Redis 7 for scripts/stack.mjs: loopback only, no persistence (a cache and presence store).
import fs from 'node:fs';
import { fatal, parseAddr, paths, target, which } from './util.mjs';

const P = paths('redis');
const ADDR = process.env.REDIS_ADDR || 'localhost:6379';
const password = () => process.env.REDIS_PASSWORD || decodeURIComponent(ADDR.match(/^[a-z]+:\/\/[^:@/]*:([^@/]*)@/i)?.[1] || '') || undefined;

export default {
  name: 'redis',
  marker: 'redis-server',
  log: P.log,
  target: () => { const a = parseAddr(ADDR, 6379); return target('redis', a.host, a.port); },
  bins: () => ({ 'redis-server': 'redis-server', 'redis-cli': 'redis-tools' }),
  async prepare() { fs.mkdirSync(P.data, { recursive: true }); },
  command: (t) => [which('redis-server'), ['--bind', t.bind, '--port', String(t.port), '--dir', P.data,
    '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--logfile', '']],

  async ping(t) {
    const { default: Redis } = await import('ioredis');
    const r = new Redis({ host: t.dial, port: t.port, password: password(), lazyConnect: true, connectTimeout: 2000,
      maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    r.on('error', () => {});
    try {
      await r.connect();
      if ((await r.ping()) !== 'PONG') throw new Error('PING did not answer PONG');
    } catch (e) {
      throw /NOAUTH|WRONGPASS|invalid password/i.test(e.message) ? fatal(e.message) : e;
    } finally { r.disconnect(); }
  },
  async setup() {},
  async verify() {},
};
