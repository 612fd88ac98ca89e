/**
 * The Redis client (ioredis). Keys are prefixed per deployment (REDIS_KEY_PREFIX) so
 * that several installations, or test runs, can share a server. Commands fail fast
 * while disconnected instead of queueing, so callers see an error they can act on.
 */
import Redis from 'ioredis';
import type { Config } from '../config';

export type { Redis } from 'ioredis';

export function createRedis(cfg: Config['redis'], overrides: { keyPrefix?: string } = {}): Redis {
  return new Redis({
    host: cfg.host,
    port: cfg.port,
    password: cfg.password === '' ? undefined : cfg.password,
    db: cfg.db,
    keyPrefix: overrides.keyPrefix ?? cfg.keyPrefix,
    lazyConnect: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(times * 100, 2000),
  });
}

export async function pingRedis(redis: Redis): Promise<void> {
  const pong = await redis.ping();
  if (pong !== 'PONG') throw new Error(`unexpected PING reply ${pong}`);
}
