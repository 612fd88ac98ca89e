import IORedis from 'ioredis';
import { Registry } from 'prom-client';
import { MessageClaims, messageFingerprint } from '../../../shared/dedup';
import { createMetrics } from '../../../shared/observability/metrics';
import { createRedis, type Redis } from '../../../shared/storage/redis';
import { RedisKeys } from '../../../shared/storage/redis-keys';
import { testConfig, uid } from '../../support/env';

interface Outcome {
  sequenceNumber: number;
  status: string;
}

describe('MessageClaims (real Redis, random key prefix per run)', () => {
  const prefix = `test-${uid('claims')}:`;
  let redis: Redis;
  const claims = (scope = 'route-private', inProgressTtlMs = 30_000) =>
    new MessageClaims<Outcome>({ redis, scope, ttlMs: 7 * 24 * 3600_000, inProgressTtlMs });
  const fp = messageFingerprint({ senderId: 'alice', recipientId: 'bob', content: 'hi' });
  const otherFp = messageFingerprint({ senderId: 'alice', recipientId: 'bob', content: 'hi!' });

  beforeAll(() => {
    redis = createRedis(testConfig().redis, { keyPrefix: prefix });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`); // KEYS ignores keyPrefix: strip it for DEL
    if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
    redis.disconnect();
  });

  it('of 20 concurrent claims of one msg_id exactly one wins; the others see it in progress', async () => {
    const c = claims();
    const msgId = uid('m');
    const results = await Promise.all(Array.from({ length: 20 }, () => c.claim(msgId, fp)));
    expect(results.filter((r) => r.kind === 'claimed')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'in_progress')).toHaveLength(19);
  });

  it('a retry after complete() gets the first outcome; a second completion cannot replace it', async () => {
    const c = claims();
    const msgId = uid('m');
    expect((await c.claim(msgId, fp)).kind).toBe('claimed');
    expect(await c.complete(msgId, fp, { sequenceNumber: 7, status: 'delivered' })).toEqual({
      kind: 'stored',
      outcome: { sequenceNumber: 7, status: 'delivered' },
    });
    expect(await c.claim(msgId, fp)).toEqual({ kind: 'completed', outcome: { sequenceNumber: 7, status: 'delivered' } });
    expect(await c.complete(msgId, fp, { sequenceNumber: 8, status: 'offline' })).toEqual({
      kind: 'already_completed',
      outcome: { sequenceNumber: 7, status: 'delivered' },
    });
  });

  it('the same msg_id with a different message is a conflict, in progress or completed', async () => {
    const c = claims();
    const msgId = uid('m');
    await c.claim(msgId, fp);
    expect(await c.claim(msgId, otherFp)).toEqual({ kind: 'conflict' });
    await c.complete(msgId, fp, { sequenceNumber: 1, status: 'offline' });
    expect(await c.claim(msgId, otherFp)).toEqual({ kind: 'conflict' });
    expect(await c.complete(msgId, otherFp, { sequenceNumber: 2, status: 'offline' })).toEqual({ kind: 'conflict' });
  });

  it('release() after a failure lets the retry claim again; it never drops a completed record', async () => {
    const c = claims();
    const msgId = uid('m');
    const first = await c.claim(msgId, fp);
    expect(first.kind).toBe('claimed');
    expect(await c.release(msgId, first.kind === 'claimed' ? first.token : '')).toBe(true);
    const retry = await c.claim(msgId, fp);
    expect(retry.kind).toBe('claimed');
    expect(await c.release(msgId, 'someone-elses-token')).toBe(false);
    expect((await c.claim(msgId, fp)).kind).toBe('in_progress');
    await c.complete(msgId, fp, { sequenceNumber: 3, status: 'delivered' });
    expect(await c.release(msgId)).toBe(false);
    expect((await c.claim(msgId, fp)).kind).toBe('completed');
  });

  it('an unfinished claim expires after the in-progress TTL; a completed one lives MESSAGE_TTL', async () => {
    const c = claims('route-private', 150);
    const crashed = uid('m');
    expect((await c.claim(crashed, fp)).kind).toBe('claimed');
    const ipTtl = await redis.pttl(RedisKeys.messageClaim('route-private', crashed));
    expect(ipTtl).toBeGreaterThan(0);
    expect(ipTtl).toBeLessThanOrEqual(150);
    await new Promise((r) => setTimeout(r, 250));
    expect((await c.claim(crashed, fp)).kind).toBe('claimed'); // the retry proceeds
    await c.complete(crashed, fp, { sequenceNumber: 4, status: 'offline' });
    const ttl = await redis.pttl(RedisKeys.messageClaim('route-private', crashed));
    expect(ttl).toBeGreaterThan(7 * 24 * 3600_000 - 60_000);
  });

  it('completing after the claim expired still records the outcome for later retries', async () => {
    const c = claims();
    const msgId = uid('m');
    expect(await c.complete(msgId, fp, { sequenceNumber: 5, status: 'delivered' })).toMatchObject({ kind: 'stored' });
    expect(await c.claim(msgId, fp)).toEqual({ kind: 'completed', outcome: { sequenceNumber: 5, status: 'delivered' } });
  });

  it('routing and persistence scopes never share a record', async () => {
    const msgId = uid('m');
    const routing = claims('route-private');
    const persisting = claims('persist-offline');
    await routing.claim(msgId, fp);
    await routing.complete(msgId, fp, { sequenceNumber: 6, status: 'offline' });
    expect((await persisting.claim(msgId, fp)).kind).toBe('claimed');
  });

  it('counts claims by scope and result, validates msg_id and scope', async () => {
    const metrics = createMetrics(new Registry());
    const c = new MessageClaims<Outcome>({ redis, scope: 'route-group', ttlMs: 60_000, inProgressTtlMs: 1000, metrics });
    const msgId = uid('m');
    await c.claim(msgId, fp);
    await c.claim(msgId, fp);
    const values = (await metrics.claims.get()).values.map((v) => [v.labels['result'], v.value]);
    expect(values).toEqual(expect.arrayContaining([['claimed', 1], ['in_progress', 1]]));
    await expect(c.claim('', fp)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(c.claim('x'.repeat(129), fp)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => new MessageClaims({ redis, scope: 'a:b', ttlMs: 1, inProgressTtlMs: 1 })).toThrow(/scope/);
  });

  it('fails with a retryable SERVICE_UNAVAILABLE when Redis is unreachable', async () => {
    // Nothing listens on port 1; no reconnects, so the client leaves no timers behind.
    const dead = new IORedis({ port: 1, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    dead.on('error', () => undefined);
    const c = new MessageClaims<Outcome>({ redis: dead, scope: 'route-private', ttlMs: 1000, inProgressTtlMs: 1000 });
    await expect(c.claim(uid('m'), fp)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    dead.disconnect();
  });
});
