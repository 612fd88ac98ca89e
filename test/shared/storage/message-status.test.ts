/**
 * MessageStatusStore against the real Redis, one call per update and batched per
 * event-loop turn (lua-many): the same forward-only status, first instants kept,
 * devices merged once, TTL from the first write — and in a batch, each entry's answer
 * and failure are its own.
 */
import { MessageStatusStore } from '../../../shared/storage/message-status';
import { createRedis, type Redis } from '../../../shared/storage/redis';
import { RedisKeys } from '../../../shared/storage/redis-keys';
import { testConfig, uid } from '../../support/env';

describe.each([false, true])('MessageStatusStore (batchPerTurn %s, real Redis)', (batchPerTurn) => {
  const prefix = `test-${uid('status')}:`;
  let redis: Redis;
  let store: MessageStatusStore;

  beforeAll(() => {
    redis = createRedis(testConfig().redis, { keyPrefix: prefix });
    store = new MessageStatusStore(redis, 60_000, { batchPerTurn });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
    redis.disconnect();
  });

  it('moves forward only, keeps the first instants, merges devices once, sets the TTL once', async () => {
    const id = uid('m');
    expect(await store.markPending(id)).toBe('pending');
    expect(await store.markDelivered(id, ['phone'], 1000)).toBe('delivered');
    expect(await store.markPending(id)).toBe('delivered');
    expect(await store.markDelivered(id, ['phone', 'laptop'], 2000)).toBe('delivered');
    expect(await store.markRead(id, 3000)).toBe('read');
    expect(await store.markDelivered(id, [], 4000)).toBe('read');
    expect(await store.get(id)).toEqual({ status: 'read', deliveredAt: 1000, readAt: 3000, deliveredDevices: ['phone', 'laptop'] });
    const ttl = await redis.pttl(RedisKeys.messageStatus(id));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('updates started together (one batch when batched) each answer for their own message, in call order', async () => {
    const ids = Array.from({ length: 12 }, () => uid('m'));
    const answers = await Promise.all([
      ...ids.map((id, i) => (i % 2 === 0 ? store.markDelivered(id, [`d${i}`], 100 + i) : store.markPending(id))),
      store.markPending(ids[0] as string), // after the delivery of the same message: stays delivered
    ]);
    expect(answers).toEqual([...ids.map((_, i) => (i % 2 === 0 ? 'delivered' : 'pending')), 'delivered']);
    expect(await store.get(ids[2] as string)).toEqual({ status: 'delivered', deliveredAt: 102, readAt: 0, deliveredDevices: ['d2'] });
  });

  it('a key Redis refuses fails only its own update', async () => {
    const broken = uid('m');
    await redis.set(RedisKeys.messageStatus(broken), 'not a hash');
    const fine = uid('m');
    const [bad, good] = await Promise.allSettled([store.markPending(broken), store.markPending(fine)]);
    expect(bad.status).toBe('rejected');
    expect(good).toEqual({ status: 'fulfilled', value: 'pending' });
  });
});
