/** The Redis kit (ioredis). */
import { createRedis, pingRedis } from '../../storage/redis';
import type { RedisKit } from './types';

export const redisKit: RedisKit = { create: (redis) => createRedis(redis), ping: pingRedis };
