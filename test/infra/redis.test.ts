import { loadConfig } from '../../shared/config';
import { createRedis, pingRedis } from '../../shared/storage/redis';
import { uid } from '../support/env';

describe('redis (real server)', () => {
  const redis = createRedis(loadConfig(process.env).redis, { keyPrefix: `${uid('test')}:` });
  afterAll(() => redis.quit());

  it('answers PING and keeps keys under the prefix with their TTL', async () => {
    await pingRedis(redis);
    await redis.set('k', 'v', 'PX', 5000);
    expect(await redis.get('k')).toBe('v');
    const ttl = await redis.pttl('k');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5000);
    await redis.del('k');
  });
});
